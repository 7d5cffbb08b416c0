import { readD1Migrations, type D1Migration } from "@cloudflare/vitest-pool-workers";
import type { TestProject } from "vitest/node";

/** The D1 migrations (migrations/), read in Node and applied inside workerd by d1-migrations.ts. */
export default async function setup(project: TestProject) {
  project.provide("d1Migrations", await readD1Migrations("migrations"));
}

declare module "vitest" {
  export interface ProvidedContext {
    d1Migrations: D1Migration[];
  }
}
