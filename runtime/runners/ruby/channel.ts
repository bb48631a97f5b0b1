/**
 * The byte channels between the Rack runner and the guest: the request goes in on fd 0, the
 * response frames come out on fd 1 (wire format in prelude.ts).
 *
 * @module
 */

/** Bytes the guest reads on fd 0: one request at a time. */
export class RequestChannel {
  #data: Uint8Array = new Uint8Array(0);
  #pos = 0;

  /** Queues the next request's bytes. */
  push(bytes: Uint8Array): void {
    if (this.#pos < this.#data.length) {
      throw new Error("RequestChannel: previous request was not fully read by the guest");
    }
    this.#data = bytes;
    this.#pos = 0;
  }

  /** Gives up to `max` bytes; an empty array means end of input. */
  read(max: number): Uint8Array {
    const n = Math.min(max, this.#data.length - this.#pos);
    const out = this.#data.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Bytes not yet read. */
  get pending(): number {
    return this.#data.length - this.#pos;
  }
}

/** A parsed response frame. */
export type Frame =
  | { readonly tag: "H"; readonly status: number; readonly headers: [string, string][] }
  | { readonly tag: "B"; readonly chunk: Uint8Array }
  | { readonly tag: "E" }
  | { readonly tag: "X"; readonly message: string };

/** Thrown when the guest writes something that is not a valid frame. */
export class FrameError extends Error {
  /** The host answers a broken guest response with 502. */
  readonly status = 502;
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

/** Parses fd 1 writes into frames, however the guest splits its writes. */
export class ResponseChannel {
  #buf = new Uint8Array(0);
  #sink: ((frame: Frame) => void) | undefined;
  #error: FrameError | undefined;

  /** Sets who receives the frames of the current response. */
  listen(sink: ((frame: Frame) => void) | undefined): void {
    this.#sink = sink;
  }

  /** Drops what is left of an earlier response (a partial frame, an error). */
  reset(): void {
    this.#buf = new Uint8Array(0);
    this.#error = undefined;
  }

  /**
   * The first problem with the guest's output since {@linkcode reset}, if any. The channel
   * never throws into the guest (that would unwind Ruby from inside a syscall); it records the
   * error, drops the rest of the response, and the runner reports it after the call returns.
   */
  takeError(): FrameError | undefined {
    const e = this.#error;
    this.#error = undefined;
    return e;
  }

  /** Feeds bytes the guest wrote. */
  write(bytes: Uint8Array): void {
    if (this.#error) return;
    if (this.#buf.length === 0) {
      this.#buf = bytes.slice();
    } else {
      const b = new Uint8Array(this.#buf.length + bytes.length);
      b.set(this.#buf);
      b.set(bytes, this.#buf.length);
      this.#buf = b;
    }
    try {
      for (;;) {
        if (this.#buf.length === 0) return;
        const tag = String.fromCharCode(this.#buf[0]);
        if (!FRAME_TAGS.has(tag)) {
          throw new FrameError(
            `The guest wrote bytes that are not a response frame (tag ${JSON.stringify(tag)}); ` +
              "is something writing to fd 1 (STDOUT) directly? Log with $stdout or $stderr",
          );
        }
        if (this.#buf.length < 5) return;
        const len = new DataView(this.#buf.buffer, this.#buf.byteOffset).getUint32(1, true);
        if (this.#buf.length < 5 + len) return;
        const payload = this.#buf.slice(5, 5 + len);
        this.#buf = this.#buf.subarray(5 + len);
        this.#sink?.(decodeFrame(tag, payload));
      }
    } catch (e) {
      this.#error = e instanceof FrameError ? e : new FrameError(String(e));
      this.#buf = new Uint8Array(0);
    }
  }
}

const FRAME_TAGS = new Set(["H", "B", "E", "X"]);

function decodeFrame(tag: string, payload: Uint8Array): Frame {
  switch (tag) {
    case "H": {
      const parts = latin1.decode(payload).split("\0");
      const status = Number(parts[0]);
      if (!Number.isInteger(status) || status < 100 || status > 999) {
        throw new FrameError(`Rack app returned an invalid status ${JSON.stringify(parts[0])}`);
      }
      const headers: [string, string][] = [];
      for (let i = 1; i + 1 < parts.length; i += 2) headers.push([parts[i], parts[i + 1]]);
      return { tag, status, headers };
    }
    case "B":
      return { tag, chunk: payload };
    case "E":
      return { tag };
    default:
      return { tag: "X", message: utf8.decode(payload) };
  }
}
