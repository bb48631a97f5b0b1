/**
 * Stdio handles: byte buffers and callbacks (runners and tests), a push-fed input queue that
 * really blocks the guest (without blocking Deno's event loop), and Deno's own stdin, stdout and
 * stderr (for `thaw run`).
 *
 * @module
 */

import {
  ERRNO_AGAIN,
  FILETYPE_CHARACTER_DEVICE,
  FILETYPE_UNKNOWN,
  RIGHTS_FD_READ,
  RIGHTS_FD_WRITE,
  RIGHTS_STREAM,
} from "./defs.ts";
import { WasiError } from "./errors.ts";
import { type BlockReason, Handle, type HandleDescription } from "./handle.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Common base of stdio streams: a character device when it is a terminal, else "unknown". */
export class StreamHandle extends Handle {
  readonly tty: boolean;

  constructor(tty = false) {
    super();
    this.tty = tty;
  }

  override get filetype(): number {
    return this.tty ? FILETYPE_CHARACTER_DEVICE : FILETYPE_UNKNOWN;
  }

  override get maxRights(): number {
    return RIGHTS_STREAM;
  }
}

/**
 * An input stream fed by the host: {@link push} bytes, then {@link end}. A read with no data
 * waits (through JSPI) until more arrives or the stream ends.
 *
 * @example
 * ```ts
 * const input = new QueueInput();
 * input.push("hello\n");
 * input.end();
 * ```
 */
export class QueueInput extends StreamHandle {
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #ended = false;
  #waiters: (() => void)[] = [];
  readonly #reason: BlockReason;

  constructor(options: { tty?: boolean; reason?: BlockReason } = {}) {
    super(options.tty);
    this.#reason = options.reason ?? "stdin";
  }

  override get maxRights(): number {
    return RIGHTS_STREAM & ~RIGHTS_FD_WRITE;
  }

  override get readBlockReason(): BlockReason {
    return this.#reason;
  }

  /** Appends bytes (strings are UTF-8 encoded). */
  push(data: Uint8Array | string): void {
    const bytes = typeof data === "string" ? encoder.encode(data) : data.slice();
    if (bytes.length > 0) this.#chunks.push(bytes);
    this.#wake();
  }

  /** Marks the end of input: reads then answer 0. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  get ended(): boolean {
    return this.#ended;
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  override read(dst: Uint8Array): number {
    let n = 0;
    while (n < dst.length && this.#chunks.length > 0) {
      const c = this.#chunks[0];
      const take = Math.min(c.length - this.#offset, dst.length - n);
      dst.set(c.subarray(this.#offset, this.#offset + take), n);
      n += take;
      this.#offset += take;
      if (this.#offset === c.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    if (n === 0 && !this.#ended && dst.length > 0) {
      throw new WasiError("No input available yet", ERRNO_AGAIN);
    }
    return n;
  }

  override pollReadable(): boolean {
    return this.#ended || this.#chunks.length > 0;
  }

  override bytesReadable(): number {
    let n = -this.#offset;
    for (const c of this.#chunks) n += c.length;
    return n;
  }

  override hangup(): boolean {
    return this.#ended && this.#chunks.length === 0;
  }

  override waitReadable(signal?: AbortSignal): Promise<void> {
    if (this.pollReadable()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  override describe(): HandleDescription {
    return { kind: "queue-input", ended: this.#ended, pending: this.bytesReadable() };
  }
}

/** Input from fixed bytes or text, ended from the start. */
export function bytesInput(data: Uint8Array | string): QueueInput {
  const q = new QueueInput();
  q.push(data);
  q.end();
  return q;
}

/**
 * Output handed to a callback. The chunk is a view of guest memory that is only valid during the
 * call: copy it to keep it.
 */
export class CallbackOutput extends StreamHandle {
  readonly #sink: (chunk: Uint8Array) => void;

  constructor(sink: (chunk: Uint8Array) => void, tty = false) {
    super(tty);
    this.#sink = sink;
  }

  override get maxRights(): number {
    return RIGHTS_STREAM & ~RIGHTS_FD_READ;
  }

  override write(src: Uint8Array): number {
    this.#sink(src);
    return src.length;
  }

  override describe(): HandleDescription {
    return { kind: "callback-output" };
  }
}

/**
 * Turns a guest's output chunks into whole lines for `sink` (a partial last line waits for the
 * rest; UTF-8 split across chunks is decoded whole). Instance logs use it.
 *
 * @example
 * ```ts
 * const write = lineSink((line) => console.error(`[app] ${line}`));
 * write(new TextEncoder().encode("hello\nwor"));
 * write(new TextEncoder().encode("ld\n")); // logs "[app] hello", then "[app] world"
 * ```
 */
export function lineSink(sink: (line: string) => void): (chunk: Uint8Array) => void {
  const decoder = new TextDecoder();
  let partial = "";
  return (chunk) => {
    partial += decoder.decode(chunk, { stream: true });
    const lines = partial.split("\n");
    partial = lines.pop()!;
    for (const line of lines) sink(line);
  };
}

/**
 * Output collected in memory.
 *
 * @example
 * ```ts
 * const out = new CollectOutput();
 * // ... run the guest with stdout: out ...
 * console.log(out.text());
 * ```
 */
export class CollectOutput extends StreamHandle {
  #buf = new Uint8Array(256);
  #len = 0;

  override get maxRights(): number {
    return RIGHTS_STREAM & ~RIGHTS_FD_READ;
  }

  override write(src: Uint8Array): number {
    const end = this.#len + src.length;
    if (end > this.#buf.length) {
      const next = new Uint8Array(Math.max(end, this.#buf.length * 2));
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    this.#buf.set(src, this.#len);
    this.#len = end;
    return src.length;
  }

  /** The bytes written so far (a copy). */
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  /** The bytes written so far, decoded as UTF-8. */
  text(): string {
    return decoder.decode(this.#buf.subarray(0, this.#len));
  }

  /** Forgets what was written. */
  clear(): void {
    this.#len = 0;
  }

  override describe(): HandleDescription {
    return { kind: "collect-output", length: this.#len };
  }
}

/** Reads as end of file, discards writes (like /dev/null). */
export class NullHandle extends StreamHandle {
  override get filetype(): number {
    return FILETYPE_CHARACTER_DEVICE;
  }

  override read(): number {
    return 0;
  }

  override write(src: Uint8Array): number {
    return src.length;
  }

  override describe(): HandleDescription {
    return { kind: "null" };
  }
}

/** Deno's stdout or stderr. Writes are synchronous, so output order is preserved. */
export class DenoOutput extends StreamHandle {
  readonly #out: { writeSync(p: Uint8Array): number };
  readonly #name: string;

  constructor(which: "stdout" | "stderr") {
    const out = which === "stdout" ? Deno.stdout : Deno.stderr;
    super(out.isTerminal());
    this.#out = out;
    this.#name = which;
  }

  override get maxRights(): number {
    return RIGHTS_STREAM & ~RIGHTS_FD_READ;
  }

  override write(src: Uint8Array): number {
    let off = 0;
    while (off < src.length) off += this.#out.writeSync(src.subarray(off));
    return src.length;
  }

  override describe(): HandleDescription {
    return { kind: "deno-output", stream: this.#name };
  }
}

/**
 * Deno's stdin. A background read fills a buffer; the guest waits (through JSPI) without
 * blocking the event loop.
 */
export class DenoInput extends QueueInput {
  #reading: Promise<void> | null = null;

  constructor() {
    super({ tty: Deno.stdin.isTerminal() });
  }

  #pump(): Promise<void> {
    return this.#reading ??= (async () => {
      const buf = new Uint8Array(65536);
      const n = await Deno.stdin.read(buf);
      this.#reading = null;
      if (n === null) this.end();
      else this.push(buf.subarray(0, n));
    })();
  }

  override waitReadable(): Promise<void> {
    if (this.pollReadable()) return Promise.resolve();
    return this.#pump();
  }

  override describe(): HandleDescription {
    return { kind: "deno-input" };
  }
}
