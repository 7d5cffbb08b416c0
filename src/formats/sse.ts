/**
 * Raw SSE framing for passthrough. Translation parses events with eventsource-parser; passthrough must
 * instead keep every byte as the upstream sent it, so it works on raw frames: the bytes of one event up to
 * and including the blank line that ends it.
 */

const LF = 10;
const CR = 13;

/**
 * Where each frame ends in `bytes` (the index just past its blank line), in order; the bytes after the
 * last end belong to a frame not complete yet. A frame ends at the first `\r\n\r\n`, `\n\n` or `\r\r`.
 * These are ASCII, so they are found in the bytes themselves (a UTF-8 character never contains them) and
 * nothing is decoded to find them. Only line breaks can start one: the native `indexOf` skips the rest,
 * and each byte is looked at once however many frames the bytes hold.
 */
export function frameEnds(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  let lf = bytes.indexOf(LF);
  let cr = bytes.indexOf(CR);
  while (lf !== -1 || cr !== -1) {
    let end = -1;
    if (lf !== -1 && (cr === -1 || lf < cr)) {
      if (bytes[lf + 1] === LF) end = lf + 2;
      else lf = bytes.indexOf(LF, lf + 1);
    } else {
      const next = bytes[cr + 1];
      if (next === CR) end = cr + 2;
      else if (next === LF && bytes[cr + 2] === CR && bytes[cr + 3] === LF) end = cr + 4;
      else cr = bytes.indexOf(CR, cr + 1);
    }
    if (end !== -1) {
      ends.push(end);
      // The next frame starts here: no break before it may begin its end.
      if (lf !== -1 && lf < end) lf = bytes.indexOf(LF, end);
      if (cr !== -1 && cr < end) cr = bytes.indexOf(CR, end);
    }
  }
  return ends;
}

/** How many of the last bytes of `bytes` (at most 3) are line breaks: a frame end may begin there. */
export function trailingBreaks(bytes: Uint8Array): number {
  let n = 0;
  while (n < 3 && n < bytes.length) {
    const b = bytes[bytes.length - 1 - n];
    if (b !== LF && b !== CR) break;
    n++;
  }
  return n;
}

/** The data of a raw frame (its `data:` lines joined by newlines), or null if it has none. */
export function frameData(frame: string): string | null {
  let data: string | null = null;
  for (const line of frame.split(/\r\n|\n|\r/)) {
    if (!line.startsWith("data:")) continue;
    const value = line.startsWith("data: ") ? line.slice(6) : line.slice(5);
    data = data === null ? value : `${data}\n${value}`;
  }
  return data;
}

/** The `event:` name of a raw frame, if any. */
export function frameEvent(frame: string): string | null {
  for (const line of frame.split(/\r\n|\n|\r/)) {
    if (line.startsWith("event:")) return line.slice(6).trim();
  }
  return null;
}

export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
