import type { KeyRecord } from "../config/schemas";
import type { AdmitResult, KeyState } from "./limiter";

type Env = Pick<CloudflareBindings, "LIMITER">;

export function keyLimiter(env: Env, keyId: string) {
  return env.LIMITER.get(env.LIMITER.idFromName(`key:${keyId}`));
}

export function keyStateOf(record: KeyRecord, deleted = false): KeyState {
  return {
    status: deleted ? "deleted" : record.disabled ? "disabled" : "active",
    expiresAt: record.expiresAt ? Date.parse(record.expiresAt) : null,
  };
}

export async function admitKey(env: Env, record: KeyRecord): Promise<AdmitResult> {
  return keyLimiter(env, record.id).admit(keyStateOf(record));
}
