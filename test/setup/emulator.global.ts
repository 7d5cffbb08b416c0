import type { TestProject } from "vitest/node";
import { startEmulator } from "../../tools/emulator/emulator.mjs";

/** One emulator on loopback for the worker project; workerd reaches it over real HTTP. */
export default async function setup(project: TestProject) {
  const emulator = await startEmulator({
    pat: "dapi-test/pat+0123456789abcdef=",
    oauth: { clientId: "bricklane-test-sp", clientSecret: "emulator-test-sp-secret" },
  });
  project.provide("emulatorUrl", emulator.url);
  return async () => emulator.close();
}

declare module "vitest" {
  export interface ProvidedContext {
    emulatorUrl: string;
  }
}
