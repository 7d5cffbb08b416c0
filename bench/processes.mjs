// @ts-check
/**
 * The bench's view of the workerd processes it started (Linux, through /proc): which exist, how much CPU
 * each has used, and when they have gone quiet after a load.
 */
import { readFile, readdir } from "node:fs/promises";

const CLOCK_TICKS = 100;
/** wrangler.toml's max_batch_timeout for the call log's consumer (5 s), and a second more. */
const QUEUE_BATCH_TIMEOUT_MS = 6000;

/** The workerd processes running now (each Miniflare instance has its own). */
export async function workerdPids() {
  const pids = new Set(/** @type {number[]} */ ([]));
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, "utf8").catch(() => "");
    if (comm.trim() === "workerd") pids.add(Number(entry));
  }
  return pids;
}

/** CPU seconds a process has used (user + system). @param {number} pid */
export async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * Waits until processes have gone quiet after a load: past the Queue's batch timeout (a consumer may
 * wait that long for a batch to fill), then until each spends less than 10 ms of CPU in a quarter of a
 * second. A gateway keeps working after its load stops (the call log's batches and their Queue consumer,
 * usage batches); that work belongs to the requests just served, and must not land on what is measured
 * next.
 * @param {readonly number[]} pids
 */
export async function quiet(pids) {
  await new Promise((resolve) => setTimeout(resolve, QUEUE_BATCH_TIMEOUT_MS));
  for (let i = 0; i < 120; i++) {
    const before = await Promise.all(pids.map(cpuSeconds));
    await new Promise((resolve) => setTimeout(resolve, 250));
    const after = await Promise.all(pids.map(cpuSeconds));
    if (after.every((cpu, j) => cpu - (before[j] ?? 0) < 0.01)) return;
  }
  throw new Error(`workerd ${pids.join(", ")} did not go quiet within 30 s of the load`);
}
