// A hand-made guest memory and a Process for driving syscalls directly, without a Wasm module.
import { MemFs } from "../../../runtime/vfs/mod.ts";
import {
  buildImports,
  Process,
  type Process as ProcessT,
  type ProcessOptions,
  wasiSyscalls,
} from "../../../runtime/wasi/mod.ts";

// deno-lint-ignore no-explicit-any
export type Sys = Record<string, (...args: any[]) => any>;

export class Harness {
  readonly memory = new WebAssembly.Memory({ initial: 4 });
  readonly proc: ProcessT;
  readonly sys: Sys;
  readonly fs: MemFs;
  #top = 1024;

  constructor(options: ProcessOptions = {}) {
    this.fs = (options.fs as MemFs | undefined) ?? new MemFs();
    this.proc = new Process({ preopens: [{ guestPath: "/" }], ...options, fs: this.fs });
    this.proc.mem.bind(this.memory);
    this.sys = buildImports(wasiSyscalls(this.proc), new Set(), { jspi: false }) as Sys;
  }

  get dv(): DataView {
    return new DataView(this.memory.buffer);
  }

  get u8(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  alloc(n: number): number {
    const p = this.#top;
    this.#top += (n + 7) & ~7;
    return p;
  }

  /** Copies bytes (or UTF-8 text) into memory; returns [ptr, len]. */
  bytes(data: Uint8Array | string): [number, number] {
    const b = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const p = this.alloc(b.length || 1);
    this.u8.set(b, p);
    return [p, b.length];
  }

  /** Builds an iovec array over the given buffers; returns [iovsPtr, count]. */
  iovs(...bufs: [number, number][]): [number, number] {
    const p = this.alloc(bufs.length * 8);
    bufs.forEach(([ptr, len], i) => {
      this.dv.setUint32(p + i * 8, ptr, true);
      this.dv.setUint32(p + i * 8 + 4, len, true);
    });
    return [p, bufs.length];
  }

  u32(p: number): number {
    return this.dv.getUint32(p, true);
  }

  u64(p: number): bigint {
    return this.dv.getBigUint64(p, true);
  }

  text(p: number, len: number): string {
    return new TextDecoder().decode(this.u8.slice(p, p + len));
  }

  /** The preopen fd of "/" (3). */
  readonly root = 3;

  /** path_open helper: returns [errno, fd]. */
  open(
    path: string,
    oflags = 0,
    rights = 0x1fffffffn,
    fdflags = 0,
    dirflags = 1,
    dir = 3,
  ): [number, number] {
    const [p, l] = this.bytes(path);
    const out = this.alloc(4);
    const e = this.sys.path_open(dir, dirflags, p, l, oflags, rights, rights, fdflags, out);
    return [e, this.u32(out)];
  }

  /** fd_write of a string; returns [errno, written]. */
  write(fd: number, data: string | Uint8Array): [number, number] {
    const [iov, n] = this.iovs(this.bytes(data));
    const out = this.alloc(4);
    const e = this.sys.fd_write(fd, iov, n, out);
    return [e, this.u32(out)];
  }

  /** fd_read of up to `max` bytes; returns [errno, text]. */
  read(fd: number, max = 256): [number, string] {
    const buf = this.alloc(max);
    const [iov, n] = this.iovs([buf, max]);
    const out = this.alloc(4);
    const e = this.sys.fd_read(fd, iov, n, out);
    return [e, this.text(buf, this.u32(out))];
  }
}
