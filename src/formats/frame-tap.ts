import type { FrameObserver } from "./passthrough";
import { frameEnds, trailingBreaks } from "./sse";

const NONE = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Lets an observer read each complete SSE frame of a byte stream while the bytes go on as they came.
 * Bytes are sent on as the very chunks they arrived in: at once when no frame may be dropped (before their
 * frame is even complete), else as each frame completes, as slices of the chunk around a dropped frame.
 * Nothing is ever re-encoded. Each frame is decoded once, for the observer, with one streaming decoder
 * over the whole stream, so a character split between chunks reads whole.
 */
export class FrameTap {
  private readonly decoder = new TextDecoder();
  /** Whether frames wait until they are complete, so that one can be dropped. */
  private readonly holding: boolean;
  /** Whether some bytes of a frame not complete yet were taken. */
  private pending = false;
  /** The text of that frame so far. */
  private text = "";
  /** Its bytes, while holding. */
  private held: Uint8Array[] = [];
  /** Its last bytes when they are line breaks (at most 3): its end may begin in them. */
  private breaks: Uint8Array = NONE;

  constructor(private readonly observer: FrameObserver) {
    this.holding = observer.mayDrop;
  }

  /** Takes the next bytes of the stream; `send` gets what goes on now. */
  take(chunk: Uint8Array, send: (bytes: Uint8Array) => void): void {
    if (chunk.length === 0) return;
    if (!this.holding) send(chunk);
    const ends = this.endsIn(chunk);
    let start = 0;
    let sendFrom = 0;
    for (const end of ends) {
      const frame = this.text + this.decoder.decode(chunk.subarray(start, end), { stream: true });
      const keep = this.observer.observe(frame);
      if (this.holding) {
        if (start === 0) {
          // The first frame may have begun in earlier chunks, held until now.
          if (keep) for (const bytes of this.held) send(bytes);
          this.held = [];
        }
        if (!keep) {
          if (start > sendFrom) send(chunk.subarray(sendFrom, start));
          sendFrom = end;
        }
      }
      this.text = "";
      this.breaks = NONE;
      this.pending = false;
      start = end;
    }
    if (this.holding && start > sendFrom) {
      send(sendFrom === 0 && start === chunk.length ? chunk : chunk.subarray(sendFrom, start));
    }
    if (start < chunk.length) this.keepPart(chunk, start);
  }

  /**
   * The end of the stream: a last frame without its blank line is read (and sent on, if it was held).
   * Returns whether there was one.
   */
  end(send: (bytes: Uint8Array) => void): boolean {
    if (!this.pending) return false;
    const frame = this.text + this.decoder.decode();
    const keep = this.observer.observe(frame);
    if (this.holding && keep) for (const bytes of this.held) send(bytes);
    this.held = [];
    this.text = "";
    this.pending = false;
    return true;
  }

  /** The frame ends in `chunk`; the first may begin in the line breaks that ended the chunk before. */
  private endsIn(chunk: Uint8Array): number[] {
    const before = this.breaks.length;
    if (before === 0) return frameEnds(chunk);
    return frameEnds(concat(this.breaks, chunk)).map((end) => end - before);
  }

  /** The start of a frame, from `start` to the end of `chunk`. */
  private keepPart(chunk: Uint8Array, start: number): void {
    const part = start === 0 ? chunk : chunk.subarray(start);
    this.text += this.decoder.decode(part, { stream: true });
    if (this.holding) this.held.push(part);
    const n = trailingBreaks(part);
    // A part made only of line breaks adds to those before it (its frame began in an earlier chunk).
    const breaks = n === part.length ? concat(this.breaks, part) : part.subarray(part.length - n);
    this.breaks = breaks.length === 0 ? NONE : breaks.slice(Math.max(0, breaks.length - 3));
    this.pending = true;
  }
}
