/**
 * A tiny stdio-only WASI for the asyncify mechanics tests, independent of runtime/wasi: stdin is a
 * queue of lines, and reading an empty queue asks `beforeBlock` like the real runtime does.
 * @module
 */

import { UNWIND } from "../../../runtime/snapshot/mod.ts";

/** Thrown by proc_exit. */
export class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Stdio process state for one instance. */
export class MiniWasi {
  memory: WebAssembly.Memory | null = null;
  stdout = "";
  lines: string[] = [];
  eof = false;
  #waiter: (() => void) | null = null;
  /** Answers "unwind" to snapshot. */
  beforeBlock: () => "block" | "unwind" = () => "block";

  push(line: string): void {
    this.lines.push(line);
    this.#waiter?.();
  }
  close(): void {
    this.eof = true;
    this.#waiter?.();
  }

  #read(iovs: number, n: number, nread: number): number {
    const line = this.lines.shift()!;
    const bytes = new TextEncoder().encode(line);
    const view = new DataView(this.memory!.buffer);
    const ptr = view.getUint32(iovs, true);
    const len = view.getUint32(iovs + 4, true);
    const k = Math.min(len, bytes.length);
    new Uint8Array(this.memory!.buffer, ptr, k).set(bytes.subarray(0, k));
    view.setUint32(nread, k, true);
    void n;
    return 0;
  }

  imports(): Record<string, (...args: number[]) => number | Promise<number> | symbol> {
    return {
      fd_read: (fd: number, iovs: number, n: number, nread: number) => {
        if (fd !== 0) return 8;
        if (this.lines.length > 0) return this.#read(iovs, n, nread);
        if (this.eof) {
          new DataView(this.memory!.buffer).setUint32(nread, 0, true);
          return 0;
        }
        if (this.beforeBlock() === "unwind") return UNWIND;
        return new Promise<number>((resolve) => {
          this.#waiter = () => {
            this.#waiter = null;
            if (this.lines.length > 0) resolve(this.#read(iovs, n, nread));
            else {
              new DataView(this.memory!.buffer).setUint32(nread, 0, true);
              resolve(0);
            }
          };
        });
      },
      fd_write: (fd: number, iovs: number, n: number, nwritten: number) => {
        const view = new DataView(this.memory!.buffer);
        let total = 0;
        for (let i = 0; i < n; i++) {
          const ptr = view.getUint32(iovs + 8 * i, true);
          const len = view.getUint32(iovs + 8 * i + 4, true);
          if (fd === 1) {
            this.stdout += new TextDecoder().decode(new Uint8Array(this.memory!.buffer, ptr, len));
          }
          total += len;
        }
        view.setUint32(nwritten, total, true);
        return 0;
      },
      fd_fdstat_get: (_fd: number, ptr: number) => {
        new Uint8Array(this.memory!.buffer, ptr, 24).fill(0);
        new DataView(this.memory!.buffer).setUint8(ptr, 2);
        return 0;
      },
      fd_seek: () => 70,
      fd_close: () => 0,
      proc_exit: (code: number) => {
        throw new Exit(code);
      },
    };
  }
}
