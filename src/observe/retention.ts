import { deleteCallsBefore } from "./calls-table";

export type RetentionEnv = Pick<CloudflareBindings, "CALLS_DB" | "CALL_LOG_RETENTION_DAYS">;

export const DEFAULT_RETENTION_DAYS = 30;

/** `CALL_LOG_RETENTION_DAYS` as a whole number of days ≥ 1, else the default. */
export function retentionDays(env: Pick<RetentionEnv, "CALL_LOG_RETENTION_DAYS">): number {
  const days = Number(env.CALL_LOG_RETENTION_DAYS);
  return Number.isInteger(days) && days >= 1 ? days : DEFAULT_RETENTION_DAYS;
}

/**
 * The Cron Trigger's work: calls older than the retention go from D1. R2 keeps its files (give the bucket
 * a lifecycle rule for that, see docs/observability.md).
 */
export async function pruneCalls(env: RetentionEnv, nowMs: number): Promise<number> {
  const cutoff = nowMs - retentionDays(env) * 86_400_000;
  const deleted = await deleteCallsBefore(env.CALLS_DB, cutoff);
  console.log(
    JSON.stringify({ msg: "call log: retention", deleted, before: new Date(cutoff).toISOString() }),
  );
  return deleted;
}
