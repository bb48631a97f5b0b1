/**
 * A FIFO of byte chunks, the buffer of one direction of a virtual stream.
 *
 * Chunks are kept by reference: a writer hands over ownership of the `Uint8Array` it pushes, and
 * a reader that takes whole chunks (`shift`) gets them without a copy. Readers that need the bytes
 * in their own buffer (guest memory) copy once with `readInto`.
 *
 * @module
 */

/**
 * A queue of byte chunks with a running byte count.
 *
 * @example
 * ```ts
 * import { ByteQueue } from "./byte_queue.ts";
 * const q = new ByteQueue();
 * q.push(new TextEncoder().encode("hello"));
 * const out = new Uint8Array(3);
 * q.readInto(out); // 3, out = "hel"
 * q.size; // 2
 * ```
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #head = 0; // index of the first live chunk
  #offset = 0; // bytes already consumed from the first live chunk
  #size = 0;

  /** Bytes buffered. */
  get size(): number {
    return this.#size;
  }

  /** Appends a chunk, taking ownership of it. Empty chunks are ignored. */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.byteLength;
  }

  /**
   * Copies up to `out.byteLength` bytes into `out` and returns how many were copied. With `peek`,
   * the bytes stay in the queue.
   */
  readInto(out: Uint8Array, peek = false): number {
    let written = 0;
    let head = this.#head;
    let offset = this.#offset;
    while (written < out.byteLength && head < this.#chunks.length) {
      const chunk = this.#chunks[head];
      const n = Math.min(chunk.byteLength - offset, out.byteLength - written);
      out.set(chunk.subarray(offset, offset + n), written);
      written += n;
      offset += n;
      if (offset === chunk.byteLength) {
        head++;
        offset = 0;
      }
    }
    if (!peek) {
      this.#head = head;
      this.#offset = offset;
      this.#size -= written;
      this.#compact();
    }
    return written;
  }

  /** Removes and returns the next chunk (or the rest of it), without copying; null when empty. */
  shift(max = Infinity): Uint8Array | null {
    if (this.#head >= this.#chunks.length) return null;
    const chunk = this.#chunks[this.#head];
    const end = Math.min(chunk.byteLength, this.#offset + max);
    const out = this.#offset === 0 && end === chunk.byteLength
      ? chunk
      : chunk.subarray(this.#offset, end);
    if (end === chunk.byteLength) {
      this.#head++;
      this.#offset = 0;
    } else {
      this.#offset = end;
    }
    this.#size -= out.byteLength;
    this.#compact();
    return out;
  }

  /** Drops every buffered byte. */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#size = 0;
  }

  #compact(): void {
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
