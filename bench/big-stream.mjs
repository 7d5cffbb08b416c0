// @ts-check
/**
 * One large streamed answer (default 100 MB of content) read through the gateway, while the workerd
 * processes' resident memory is sampled: invariant 4 says the gateway never buffers a stream, so memory
 * must stay flat however long the stream is.
 */
import { execFileSync } from "node:child_process";

/** Resident memory (KiB) of every workerd process that is a descendant of this process. */
function workerdRssKiB() {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid=,rss=,comm="], { encoding: "utf8" });
  const procs = out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .map(([pid, ppid, rss, comm]) => ({ pid: Number(pid), ppid: Number(ppid), rss: Number(rss), comm }));
  const mine = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) {
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => mine.has(p.pid) && p.comm?.startsWith("workerd")).reduce((a, p) => a + p.rss, 0);
}

/**
 * @param {{ url: string, headers: Record<string, string>, body: string, megabytes: number }} target
 * @returns {Promise<{ bytes: number, seconds: number, rssBeforeMiB: number, rssPeakMiB: number }>}
 */
export async function bigStream(target) {
  const before = workerdRssKiB();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, workerdRssKiB());
  }, 200);
  const started = performance.now();
  let bytes = 0;
  try {
    const res = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body });
    if (!res.ok || !res.body) throw new Error(`big stream answered HTTP ${res.status}`);
    for await (const chunk of res.body) bytes += chunk.byteLength;
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, workerdRssKiB());
  return {
    bytes,
    seconds: (performance.now() - started) / 1000,
    rssBeforeMiB: before / 1024,
    rssPeakMiB: peak / 1024,
  };
}
