/** Little-endian byte writing and bounds-checked reading for record payloads. */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Thrown by {@link ByteReader} when a payload is malformed; the caller adds the position. */
export class PayloadProblem extends Error {}

/** Appends little-endian values to a growing buffer. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initial = 256) {
    this.#buf = new Uint8Array(initial);
    this.#view = new DataView(this.#buf.buffer);
  }

  #reserve(n: number): number {
    const at = this.#len;
    if (at + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, at + n));
      next.set(this.#buf.subarray(0, at));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    this.#len = at + n;
    return at;
  }

  u8(v: number): void {
    const at = this.#reserve(1);
    this.#view.setUint8(at, v);
  }
  u16(v: number): void {
    const at = this.#reserve(2);
    this.#view.setUint16(at, v, true);
  }
  u32(v: number): void {
    const at = this.#reserve(4);
    this.#view.setUint32(at, v, true);
  }
  u64(v: bigint): void {
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, v, true);
  }
  i32(v: number): void {
    const at = this.#reserve(4);
    this.#view.setInt32(at, v, true);
  }
  i64(v: bigint): void {
    const at = this.#reserve(8);
    this.#view.setBigInt64(at, v, true);
  }
  f32(v: number): void {
    const at = this.#reserve(4);
    this.#view.setFloat32(at, v, true);
  }
  f64(v: number): void {
    const at = this.#reserve(8);
    this.#view.setFloat64(at, v, true);
  }
  bytes(v: Uint8Array): void {
    const at = this.#reserve(v.length);
    this.#buf.set(v, at);
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

/** Reads little-endian values, throwing {@link PayloadProblem} past the end. */
export class ByteReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get pos(): number {
    return this.#pos;
  }
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  #take(n: number, what: string): number {
    const at = this.#pos;
    if (n > this.#buf.length - at) {
      throw new PayloadProblem(
        `Payload too short for ${what}: needs ${n} bytes at payload byte ${at}, has ${
          this.#buf.length - at
        }`,
      );
    }
    this.#pos = at + n;
    return at;
  }

  u8(what: string): number {
    return this.#view.getUint8(this.#take(1, what));
  }
  u16(what: string): number {
    return this.#view.getUint16(this.#take(2, what), true);
  }
  u32(what: string): number {
    return this.#view.getUint32(this.#take(4, what), true);
  }
  u64(what: string): bigint {
    return this.#view.getBigUint64(this.#take(8, what), true);
  }
  i32(what: string): number {
    return this.#view.getInt32(this.#take(4, what), true);
  }
  i64(what: string): bigint {
    return this.#view.getBigInt64(this.#take(8, what), true);
  }
  f32(what: string): number {
    return this.#view.getFloat32(this.#take(4, what), true);
  }
  f64(what: string): number {
    return this.#view.getFloat64(this.#take(8, what), true);
  }
  /** `n` bytes as a view into the payload (no copy). */
  bytes(n: number, what: string): Uint8Array {
    const at = this.#take(n, what);
    return this.#buf.subarray(at, at + n);
  }
  str(n: number, what: string): string {
    const b = this.bytes(n, what);
    try {
      return decoder.decode(b);
    } catch {
      throw new PayloadProblem(`Invalid UTF-8 in ${what}`);
    }
  }
}

/** UTF-8 encodes a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}
