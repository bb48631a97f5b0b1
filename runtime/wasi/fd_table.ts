/**
 * {@link FdTable}: fd numbers to open descriptions with their rights and flags. Entries are plain
 * objects, so `runtime/snapshot` can list them ({@link FdTable.entries}) and rebuild a table with
 * {@link FdTable.set}.
 *
 * @module
 */

import {
  ERRNO_BADF,
  ERRNO_MFILE,
  ERRNO_NOTCAPABLE,
  ERRNO_NOTDIR,
  RIGHTS_FD_READ,
  RIGHTS_FD_WRITE,
} from "./defs.ts";
import { WasiError } from "./errors.ts";
import type { Handle } from "./handle.ts";

/** One fd. Rights are preview1 `RIGHTS_*` bits (all below 2^30, so plain numbers). */
export interface FdEntry {
  handle: Handle;
  rightsBase: number;
  rightsInheriting: number;
  /** `FDFLAGS_*`: append, nonblock, sync... */
  fdflags: number;
  /** The preopened directory's guest path, for preopens only. */
  preopenPath?: string;
  /** WASIX `fdflagsext` bits (CLOEXEC); preview1 ignores them. */
  fdflagsext?: number;
}

/** The highest fd number handed out, plus one. */
export const MAX_FDS = 1 << 16;

/**
 * The fd table of a process.
 *
 * @example
 * ```ts
 * import { Handle } from "./handle.ts";
 * const t = new FdTable();
 * const fd = t.insert({ handle: new Handle(), rightsBase: 0, rightsInheriting: 0, fdflags: 0 });
 * console.log(fd, t.get(fd) !== undefined); // 0 true
 * ```
 */
export class FdTable {
  #slots: (FdEntry | undefined)[] = [];
  #free = 0;

  /** The entry of `fd`, or undefined. */
  get(fd: number): FdEntry | undefined {
    return this.#slots[fd];
  }

  /**
   * The entry of `fd`, checking that it has every bit of `rights`. Missing read or write rights
   * answer EBADF (as POSIX and wasmtime do), other missing rights NOTCAPABLE.
   *
   * @throws {WasiError} EBADF, NOTCAPABLE.
   */
  entry(fd: number, rights: number): FdEntry {
    const e = this.#slots[fd];
    if (e === undefined) throw new WasiError(`Bad file descriptor ${fd}`, ERRNO_BADF);
    if ((e.rightsBase & rights) !== rights) {
      const missing = rights & ~e.rightsBase;
      if ((missing & (RIGHTS_FD_READ | RIGHTS_FD_WRITE)) !== 0) {
        throw new WasiError(
          `fd ${fd} is not open for ${missing & RIGHTS_FD_READ ? "reading" : "writing"}`,
          ERRNO_BADF,
        );
      }
      throw new WasiError(`fd ${fd} lacks the rights 0x${missing.toString(16)}`, ERRNO_NOTCAPABLE);
    }
    return e;
  }

  /** The handle of `fd` (EBADF when closed). */
  handle(fd: number): Handle {
    const e = this.#slots[fd];
    if (e === undefined) throw new WasiError(`Bad file descriptor ${fd}`, ERRNO_BADF);
    return e.handle;
  }

  /**
   * Inserts at the lowest free fd that is at least `minFd` (as POSIX does) and retains the
   * handle; returns the fd.
   */
  insert(entry: FdEntry, minFd = 0): number {
    let fd = Math.max(this.#free, minFd);
    while (fd < this.#slots.length && this.#slots[fd] !== undefined) fd++;
    if (fd >= MAX_FDS) throw new WasiError("Too many open files", ERRNO_MFILE);
    this.#slots[fd] = entry;
    if (minFd <= this.#free) this.#free = fd + 1;
    entry.handle.retain();
    return fd;
  }

  /**
   * Puts `entry` at exactly `fd` (snapshot restore, dup2, renumber), releasing what was there.
   * Returns the previous entry's release result (a Promise when its close is asynchronous).
   */
  set(fd: number, entry: FdEntry): void | Promise<void> {
    if (fd < 0 || fd >= MAX_FDS) throw new WasiError(`Bad file descriptor ${fd}`, ERRNO_BADF);
    const old = this.#slots[fd];
    entry.handle.retain();
    this.#slots[fd] = entry;
    return old?.handle.release();
  }

  /** Removes `fd` and releases its handle (closing it if it was the last reference). */
  close(fd: number): void | Promise<void> {
    const e = this.take(fd);
    return e.handle.release();
  }

  /** Removes `fd` without releasing its handle (the caller takes over the reference). */
  take(fd: number): FdEntry {
    const e = this.#slots[fd];
    if (e === undefined) throw new WasiError(`Bad file descriptor ${fd}`, ERRNO_BADF);
    this.#slots[fd] = undefined;
    while (this.#slots.length > 0 && this.#slots[this.#slots.length - 1] === undefined) {
      this.#slots.length--;
    }
    if (fd < this.#free) this.#free = fd;
    return e;
  }

  /** Moves `from` onto `to` (closing what `to` held, if anything). `from` must be open. */
  renumber(from: number, to: number): void | Promise<void> {
    const src = this.#slots[from];
    if (src === undefined) throw new WasiError(`Bad file descriptor ${from}`, ERRNO_BADF);
    // As in wasmtime, `to` need not be open (it must be a valid number).
    if (to < 0 || to >= MAX_FDS) throw new WasiError(`Bad file descriptor ${to}`, ERRNO_BADF);
    if (from === to) return;
    const old = this.#slots[to];
    this.#slots[to] = src;
    this.take(from);
    return old?.handle.release();
  }

  /** Every open fd with its entry, in fd order. */
  entries(): [number, FdEntry][] {
    const out: [number, FdEntry][] = [];
    this.#slots.forEach((e, fd) => {
      if (e !== undefined) out.push([fd, e]);
    });
    return out;
  }

  /** The number of open fds. */
  get size(): number {
    let n = 0;
    for (const e of this.#slots) if (e !== undefined) n++;
    return n;
  }
}

/** Throws ENOTDIR (helper for syscalls that need a directory fd). */
export function notDir(fd: number): never {
  throw new WasiError(`fd ${fd} is not a directory`, ERRNO_NOTDIR);
}
