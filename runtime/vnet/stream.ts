/**
 * Virtual byte streams: the two connected ends of a TCP-like connection inside the process.
 *
 * Each direction is a {@link ByteQueue} with a soft limit for backpressure. A writer hands its
 * chunk over by reference, so a host writing request bytes and a host reading response chunks
 * (`readChunk`) never copy; only the guest side copies, once, between the queue and its memory.
 *
 * @module
 */

import { ByteQueue } from "./byte_queue.ts";
import { VnetError } from "./errors.ts";
import { Notifier } from "./notifier.ts";
import type { SocketAddress } from "./address.ts";

/** Default soft limit of bytes buffered in one direction before the writer is told to wait. */
export const DEFAULT_BUFFER_LIMIT = 1 << 20;

class Direction {
  readonly queue = new ByteQueue();
  /** The writer shut down or closed: the reader sees EOF once the queue drains. */
  writerDone = false;
  /** The reader closed: writes fail with EPIPE. */
  readerGone = false;
  constructor(readonly limit: number, readonly reader: Notifier, readonly writer: Notifier) {}
}

/** Options for {@link createStreamPair}. */
export interface StreamPairOptions {
  /** Soft limit of bytes buffered per direction. @default {DEFAULT_BUFFER_LIMIT} */
  bufferLimit?: number;
  /** Called once when both ends are closed. */
  onClosed?: () => void;
}

/**
 * One end of a virtual connection. The guest's socket handles and the host's connections are both
 * `VStream`s.
 *
 * Synchronous calls (`read`, `readChunk`, `write`) never wait: they throw `VnetError("EAGAIN")`
 * when they would block. `changed()` resolves at the next state change, so callers can wait and
 * retry; `readAsync`/`writeAsync` and the Web streams do that for the host.
 *
 * @example
 * ```ts
 * import { createStreamPair } from "./stream.ts";
 * const local = { family: "ipv4", ip: "127.0.0.1", port: 1 } as const;
 * const [a, b] = createStreamPair(local, { ...local, port: 2 });
 * a.write(new TextEncoder().encode("ping"));
 * const chunk = await b.readAsync(); // "ping", the same Uint8Array a wrote
 * ```
 */
export class VStream {
  readonly #in: Direction;
  readonly #out: Direction;
  readonly #notifier: Notifier;
  readonly #onClosed: () => void;
  #closed = false;
  #readShut = false;
  /** Local address of this end. */
  readonly localAddress: SocketAddress;
  /** Address of the other end. */
  readonly remoteAddress: SocketAddress;

  /** @internal Use {@link createStreamPair}. */
  constructor(
    input: Direction,
    output: Direction,
    notifier: Notifier,
    local: SocketAddress,
    remote: SocketAddress,
    onClosed: () => void,
  ) {
    this.#in = input;
    this.#out = output;
    this.#notifier = notifier;
    this.localAddress = local;
    this.remoteAddress = remote;
    this.#onClosed = onClosed;
  }

  /** Bytes ready to read now. */
  get available(): number {
    return this.#readShut ? 0 : this.#in.queue.size;
  }

  /** True when a read would not block: data is buffered, or the stream is at EOF. */
  get readable(): boolean {
    return this.#closed || this.#readShut || this.#in.queue.size > 0 || this.#in.writerDone;
  }

  /** True when the peer finished sending and everything it sent has been read. */
  get eof(): boolean {
    return this.#readShut || (this.#in.writerDone && this.#in.queue.size === 0);
  }

  /** True when a write would not block (it may still fail with EPIPE). */
  get writable(): boolean {
    return this.#out.writerDone || this.#out.readerGone ||
      this.#out.queue.size < this.#out.limit;
  }

  /** True once the peer closed its end entirely, or this end shut its writing side. */
  get hangup(): boolean {
    return this.#out.readerGone && this.#in.writerDone;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True after this end shut down writing (or closed). */
  get writeShut(): boolean {
    return this.#out.writerDone;
  }

  /** True after this end shut down reading (or closed). */
  get readShut(): boolean {
    return this.#readShut;
  }

  /**
   * Copies buffered bytes into `out`. Returns 0 at EOF.
   *
   * @throws {VnetError} EAGAIN when nothing is buffered and the peer may still send.
   */
  read(out: Uint8Array, peek = false): number {
    if (this.#closed) throw new VnetError("The stream is closed", "ENOTCONN");
    if (out.byteLength === 0) return 0;
    if (this.#readShut) return 0;
    const n = this.#in.queue.readInto(out, peek);
    if (n > 0) {
      if (!peek) this.#in.writer.notify();
      return n;
    }
    if (this.#in.writerDone) return 0;
    throw new VnetError("No data yet; wait for changed()", "EAGAIN");
  }

  /**
   * Takes the next buffered chunk without copying; null at EOF.
   *
   * @throws {VnetError} EAGAIN when nothing is buffered and the peer may still send.
   */
  readChunk(max = Infinity): Uint8Array | null {
    if (this.#closed) throw new VnetError("The stream is closed", "ENOTCONN");
    if (this.#readShut) return null;
    const chunk = this.#in.queue.shift(max);
    if (chunk !== null) {
      this.#in.writer.notify();
      return chunk;
    }
    if (this.#in.writerDone) return null;
    throw new VnetError("No data yet; wait for changed()", "EAGAIN");
  }

  /**
   * Queues `chunk` for the peer, taking ownership of it (do not modify it afterwards). Writes the
   * whole chunk even past the soft limit; check `writable` first to respect backpressure.
   *
   * @throws {VnetError} EPIPE after shutdown or when the peer closed.
   */
  write(chunk: Uint8Array): number {
    if (this.#closed || this.#out.writerDone) {
      throw new VnetError("Cannot send after the socket was shut down for writing", "EPIPE");
    }
    if (this.#out.readerGone) {
      throw new VnetError("The peer closed the connection", "EPIPE");
    }
    this.#out.queue.push(chunk);
    this.#out.reader.notify();
    return chunk.byteLength;
  }

  /** Shuts down reading, writing or both (like `shutdown(2)`); idempotent. */
  shutdown(how: { read?: boolean; write?: boolean }): void {
    if (how.write && !this.#out.writerDone) {
      this.#out.writerDone = true;
      this.#out.reader.notify();
    }
    if (how.read && !this.#readShut) {
      this.#readShut = true;
      this.#in.readerGone = true;
      this.#in.queue.clear();
      this.#in.writer.notify();
    }
    this.#notifier.notify();
  }

  /** Closes this end: the peer reads EOF and its writes fail with EPIPE. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.shutdown({ read: true, write: true });
    this.#closed = true;
    this.#notifier.notify();
    this.#onClosed();
  }

  /** Resolves at the next change of this end's readiness. */
  changed(): Promise<void> {
    return this.#notifier.wait();
  }

  /**
   * Calls `listener` synchronously at every change of this end's readiness (data or EOF from the
   * peer, buffer space, shutdown), for a reader that must not wait on a promise per chunk; null
   * stops it. The listener runs inside the peer's write, so it should only take note and defer
   * its work.
   */
  watch(listener: (() => void) | null): void {
    this.#notifier.listen(listener);
  }

  /**
   * Takes the next buffered chunk without copying and without waiting: null at EOF (or once this
   * end is closed), undefined when nothing is there yet.
   */
  take(): Uint8Array | null | undefined {
    if (this.#closed || this.#readShut) return null;
    const chunk = this.#in.queue.shift();
    if (chunk !== null) {
      this.#in.writer.notify();
      return chunk;
    }
    return this.#in.writerDone ? null : undefined;
  }

  /** Reads the next chunk, waiting for one; null at EOF. Zero-copy. */
  async readAsync(max = Infinity): Promise<Uint8Array | null> {
    // Look before reading: an EAGAIN error per empty poll costs more than the read itself.
    while (!this.readable) await this.changed();
    return this.readChunk(max);
  }

  /** Writes `chunk` once the buffer is below its limit. Takes ownership of `chunk`. */
  async writeAsync(chunk: Uint8Array): Promise<void> {
    while (!this.writable) await this.changed();
    this.write(chunk);
  }

  /** A Web `ReadableStream` over this end's incoming bytes (zero-copy chunks). */
  readableStream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.readAsync();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: () => this.shutdown({ read: true }),
    });
  }

  /** A Web `WritableStream` into this end; closing it shuts down writing. */
  writableStream(): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({
      write: (chunk) => this.writeAsync(chunk),
      close: () => this.shutdown({ write: true }),
      abort: () => this.close(),
    });
  }
}

/**
 * Creates two connected stream ends. `a` has local address `addrA` and peer `addrB`.
 *
 * @example
 * ```ts
 * import { createStreamPair } from "./stream.ts";
 * const addr = { family: "ipv4", ip: "127.0.0.1", port: 80 } as const;
 * const [client, server] = createStreamPair({ ...addr, port: 50000 }, addr);
 * ```
 */
export function createStreamPair(
  addrA: SocketAddress,
  addrB: SocketAddress,
  options: StreamPairOptions = {},
): [VStream, VStream] {
  const limit = options.bufferLimit ?? DEFAULT_BUFFER_LIMIT;
  const na = new Notifier();
  const nb = new Notifier();
  const aToB = new Direction(limit, nb, na);
  const bToA = new Direction(limit, na, nb);
  let open = 2;
  const onClosed = () => {
    if (--open === 0) options.onClosed?.();
  };
  const a = new VStream(bToA, aToB, na, addrA, addrB, onClosed);
  const b = new VStream(aToB, bToA, nb, addrB, addrA, onClosed);
  return [a, b];
}
