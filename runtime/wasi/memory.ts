/**
 * Guest memory access for syscalls. Views are never trusted blindly: every access is checked
 * against the current views' buffer, and `memory.grow` detaches that buffer (its length drops to
 * 0), so the first access after a grow re-reads `memory.buffer` and rebuilds the views. Hot
 * syscalls thus stay allocation-free and never touch a stale view. Pointers and lengths arrive from Wasm as signed i32 and are
 * read as u32. Any access outside the memory throws `WasiError(EFAULT)`, never a host exception.
 *
 * @module
 */

import { ERRNO_FAULT, ERRNO_ILSEQ } from "./defs.ts";
import { WasiError } from "./errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();
const EMPTY = new ArrayBuffer(0);

/**
 * A bounds-checked, little-endian accessor over a guest's linear memory.
 *
 * @example
 * ```ts
 * const mem = new GuestMemory(new WebAssembly.Memory({ initial: 1 }));
 * mem.setU32(8, 42);
 * console.log(mem.getU32(8)); // 42
 * mem.getU32(65536); // throws WasiError(EFAULT)
 * ```
 */
export class GuestMemory {
  #memory: WebAssembly.Memory | null = null;
  #buffer: ArrayBufferLike = EMPTY;
  #view: DataView<ArrayBufferLike> = new DataView(EMPTY);
  #u8: Uint8Array<ArrayBufferLike> = new Uint8Array(EMPTY);

  constructor(memory?: WebAssembly.Memory) {
    if (memory) this.bind(memory);
  }

  /** Attaches the guest's exported memory (done by `Process.start` / `Process.initialize`). */
  bind(memory: WebAssembly.Memory): void {
    this.#memory = memory;
    this.#buffer = EMPTY;
  }

  /** The bound memory, or null before the instance exists. */
  get memory(): WebAssembly.Memory | null {
    return this.#memory;
  }

  #refresh(): void {
    const m = this.#memory;
    if (m === null) throw new WasiError("Guest memory is not bound yet", ERRNO_FAULT);
    const b = m.buffer;
    if (b !== this.#buffer) {
      this.#buffer = b;
      this.#view = new DataView(b);
      this.#u8 = new Uint8Array(b);
    }
  }

  /**
   * Bounds check. The views are trusted only while their buffer is attached and large enough:
   * `memory.grow` detaches the old buffer (its length becomes 0) and a grown shared memory has a
   * longer buffer, so anything out of range of the current views re-reads `memory.buffer` first.
   */
  #check(ptr: number, len: number): void {
    // Raw i32 lengths may be negative (read them as u32); computed ones may exceed 2^32.
    const end = (ptr >>> 0) + (len < 0 ? len >>> 0 : len);
    const cap = this.#buffer.byteLength;
    if (end > cap || cap === 0) {
      this.#refresh();
      if (end > this.#buffer.byteLength) fault(ptr, len);
    }
  }

  /**
   * Checks that `[ptr, ptr+len)` is inside memory and returns a DataView of the whole memory,
   * valid until the guest runs again. Offsets into it are absolute.
   *
   * @throws {WasiError} EFAULT when the range is out of bounds.
   */
  view(ptr: number, len: number): DataView<ArrayBufferLike> {
    this.#check(ptr, len);
    return this.#view;
  }

  /** Like {@link view}, but returns a Uint8Array of the whole memory. */
  u8(ptr: number, len: number): Uint8Array<ArrayBufferLike> {
    this.#check(ptr, len);
    return this.#u8;
  }

  /** A view (not a copy) of `len` bytes at `ptr`, valid until the guest runs again. */
  bytes(ptr: number, len: number): Uint8Array<ArrayBufferLike> {
    ptr >>>= 0;
    len >>>= 0;
    return this.u8(ptr, len).subarray(ptr, ptr + len);
  }

  /** A copy of `len` bytes at `ptr`. */
  copy(ptr: number, len: number): Uint8Array {
    return this.bytes(ptr, len).slice();
  }

  /** The current size of memory in bytes. */
  get byteLength(): number {
    this.#refresh();
    return this.#buffer.byteLength;
  }

  getU8(ptr: number): number {
    return this.view(ptr, 1).getUint8(ptr >>> 0);
  }
  getU16(ptr: number): number {
    return this.view(ptr, 2).getUint16(ptr >>> 0, true);
  }
  getU32(ptr: number): number {
    return this.view(ptr, 4).getUint32(ptr >>> 0, true);
  }
  getU64(ptr: number): bigint {
    return this.view(ptr, 8).getBigUint64(ptr >>> 0, true);
  }
  setU8(ptr: number, v: number): void {
    this.view(ptr, 1).setUint8(ptr >>> 0, v);
  }
  setU16(ptr: number, v: number): void {
    this.view(ptr, 2).setUint16(ptr >>> 0, v, true);
  }
  setU32(ptr: number, v: number): void {
    this.view(ptr, 4).setUint32(ptr >>> 0, v, true);
  }
  setU64(ptr: number, v: bigint): void {
    this.view(ptr, 8).setBigUint64(ptr >>> 0, v, true);
  }

  /** Writes a non-negative integer below 2^64 given as a number, without allocating a BigInt. */
  setU64n(ptr: number, v: number): void {
    const dv = this.view(ptr, 8);
    ptr >>>= 0;
    const hi = Math.floor(v / 4294967296);
    dv.setUint32(ptr, v - hi * 4294967296, true);
    dv.setUint32(ptr + 4, hi >>> 0, true);
  }

  /** Copies `src` into memory at `ptr`. */
  write(ptr: number, src: Uint8Array): void {
    this.u8(ptr, src.length).set(src, ptr >>> 0);
  }

  /**
   * Decodes `len` bytes of UTF-8 at `ptr`.
   *
   * @throws {WasiError} EFAULT when out of bounds, EILSEQ when not valid UTF-8.
   */
  readString(ptr: number, len: number): string {
    const bytes = this.bytes(ptr, len);
    // Short ASCII strings (most paths) skip TextDecoder, which costs a host call in Deno.
    if (bytes.length <= 128) {
      let ascii = true;
      for (let i = 0; i < bytes.length; i++) {
        if (bytes[i] > 127) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
    }
    try {
      return decoder.decode(bytes);
    } catch {
      throw new WasiError("Path is not valid UTF-8", ERRNO_ILSEQ);
    }
  }

  /** Encodes `s` as UTF-8 at `ptr`, writing at most `max` bytes; returns the bytes written. */
  writeString(ptr: number, s: string, max = Infinity): number {
    const bytes = encoder.encode(s);
    const n = Math.min(bytes.length, max);
    this.write(ptr, n === bytes.length ? bytes : bytes.subarray(0, n));
    return n;
  }
}

function fault(ptr: number, len: number): never {
  throw new WasiError(
    `Guest pointer out of bounds: ${ptr >>> 0}+${
      len < 0 ? len >>> 0 : len
    } is past the end of memory`,
    ERRNO_FAULT,
  );
}
