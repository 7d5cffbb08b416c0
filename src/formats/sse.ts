/**
 * Raw SSE framing for passthrough. Translation parses events with eventsource-parser; passthrough must
 * instead keep every byte as the upstream sent it, so it works on raw frames: the text of one event up to
 * and including the blank line that ends it.
 */

const FRAME_END = /\r\n\r\n|\n\n|\r\r/;

/** Splits off every complete frame in `buffer`; returns them and the incomplete rest. */
export function splitFrames(buffer: string): { frames: string[]; rest: string } {
  const frames: string[] = [];
  let rest = buffer;
  for (;;) {
    const match = FRAME_END.exec(rest);
    if (!match) return { frames, rest };
    const end = match.index + match[0].length;
    frames.push(rest.slice(0, end));
    rest = rest.slice(end);
  }
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
