// @ts-check
/**
 * The stage costs again, as a microbenchmark in Node: the same stage functions as the floor's variants
 * (bench/floor/stages.ts, bundled with esbuild), fed a recorded streamed answer (the emulator's, one SSE
 * frame per chunk as it writes them) over and over in this process, timed by CPU time. No sockets, no
 * workerd, no load generator: much less noise than the req/s of the workerd variants, but Node's web
 * streams are not workerd's, so read the differences between stages, not the absolute numbers.
 */
import { build } from "esbuild";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startEmulator } from "../tools/emulator/emulator.mjs";
import { REPO_ROOT } from "../tools/lib/stack.mjs";
import { percentile } from "./first-byte.mjs";
import { fmt, formatTable } from "./report.mjs";
import { STAGE_SCENARIO } from "./scenarios.mjs";
import { MODEL, PAT } from "./targets.mjs";

/** @typedef {(body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>} Stage */

/** @returns {Promise<Record<string, Stage>>} */
async function loadStages() {
  const dir = await mkdtemp(join(tmpdir(), "bricklane-stages-"));
  try {
    const out = await build({
      entryPoints: [join(REPO_ROOT, "bench", "floor", "stages.ts")],
      bundle: true,
      format: "esm",
      platform: "neutral",
      write: false,
    });
    const file = join(dir, "stages.mjs");
    await writeFile(file, out.outputFiles[0]?.contents ?? "");
    return (await import(pathToFileURL(file).href)).STAGES;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The emulator's streamed answer to the stage scenario, split into its frames. */
async function recordAnswer() {
  const emulator = await startEmulator({ pat: PAT });
  try {
    const res = await fetch(`${emulator.url}/mlflow/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${PAT}`,
        "content-type": "application/json",
        ...STAGE_SCENARIO.headers,
      },
      body: JSON.stringify({ model: MODEL, ...STAGE_SCENARIO.body }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`recording the answer: HTTP ${res.status}`);
    const encoder = new TextEncoder();
    return (text.match(/[^]*?\n\n/g) ?? []).map((frame) => encoder.encode(frame));
  } finally {
    await emulator.close();
  }
}

/** @param {Uint8Array[]} chunks */
function source(chunks) {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

/** @param {ReadableStream<Uint8Array>} stream */
async function drain(stream) {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.byteLength;
  return bytes;
}

/** CPU microseconds per request of `n` requests through `stage`. */
async function cpuPerRequest(/** @type {Stage} */ stage, /** @type {Uint8Array[]} */ chunks, n = 1) {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await drain(stage(source(chunks)));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

/**
 * @param {{ name: string, base: string | null }[]} list the variants, each with the one it adds to
 * @param {{ rounds: number, requests: number }} options
 */
export async function runStageMicro(list, { rounds, requests }) {
  const variants = list.map((v) => v.name);
  const [stages, chunks] = await Promise.all([loadStages(), recordAnswer()]);
  const inBytes = chunks.reduce((a, c) => a + c.byteLength, 0);
  /** @type {Map<string, number[]>} */
  const samples = new Map(variants.map((v) => [v, []]));
  /** @type {Map<string, number>} */
  const outBytes = new Map();
  for (const v of variants) {
    const stage = stages[v];
    if (!stage) throw new Error(`no stage '${v}' in bench/floor/stages.ts`);
    outBytes.set(v, await drain(stage(source(chunks))));
    await cpuPerRequest(stage, chunks, requests); // warm-up: let V8 compile the hot paths
  }
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      const stage = /** @type {Stage} */ (stages[v]);
      samples.get(v)?.push(await cpuPerRequest(stage, chunks, requests));
    }
  }
  const rows = variants.map((v) => {
    const xs = [...(samples.get(v) ?? [])].sort((a, b) => a - b);
    return { variant: v, cpuUs: percentile(xs, 50), samples: xs, outBytes: outBytes.get(v) ?? 0 };
  });
  const lines = rows.map((row, i) => {
    const prev = rows.find((r) => r.variant === list[i]?.base);
    return [
      row.variant,
      fmt(row.cpuUs),
      !prev ? "-" : `${fmt(row.cpuUs - prev.cpuUs)} (vs ${prev.variant})`,
      String(row.outBytes),
    ];
  });
  const table = formatTable(["variant", "CPU us/request", "us added", "bytes out"], lines);
  const note =
    `Node microbenchmark: ${chunks.length} frames (${inBytes} bytes) per request, ${requests} requests x ` +
    `${rounds} rounds per variant, medians of CPU time per request.`;
  return { rows, table, note, frames: chunks.length, inBytes };
}
