/**
 * {@link Handle}: an open file description. Every operation has a default that answers the errno
 * a POSIX system gives for a descriptor that does not support it, so subclasses (files and
 * directories here; sockets, pipes and event fds in `runtime/wasix`) override only what they
 * support.
 *
 * Blocking protocol: an operation that may wait (read on a pipe, accept, recv) is split into a
 * readiness check and a synchronous operation. A syscall first asks {@link Handle.pollReadable} /
 * {@link Handle.pollWritable}; when the answer is false and the fd is blocking, it consults
 * `proc.beforeBlock(point)` and then awaits {@link Handle.waitReadable} /
 * {@link Handle.waitWritable} before retrying. So a handle never has to return a Promise from
 * `read`; it may still do so, and the syscall then awaits it (without the snapshot hook).
 *
 * @module
 */

import {
  ERRNO_BADF,
  ERRNO_INVAL,
  ERRNO_ISDIR,
  ERRNO_NOTDIR,
  ERRNO_NOTSOCK,
  ERRNO_NOTSUP,
  ERRNO_SPIPE,
  FILETYPE_UNKNOWN,
  RIGHTS_STREAM,
} from "./defs.ts";
import { WasiError } from "./errors.ts";

/** Why a syscall is about to block (see ARCHITECTURE.md, "Snapshot hook"). */
export type BlockReason = "accept" | "poll" | "read" | "stdin" | "sleep" | "futex" | "explicit";

/** Where a syscall is about to block. */
export interface BlockPoint {
  syscall: string;
  reason: BlockReason;
  fd?: number;
}

/** What `stat` reports about a handle; mirrors preview1's `filestat`. */
export interface HandleStat {
  dev: number;
  ino: number;
  filetype: number;
  nlink: number;
  size: number;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

/** One directory entry as `fd_readdir` writes it. */
export interface HandleDirent {
  /** The name: UTF-8 bytes, or a string (`fd_readdir` encodes it). */
  name: Uint8Array | string;
  ino: number;
  filetype: number;
  /** The cookie of the entry after this one (default: the requested cookie + 1). */
  next?: number;
}

/** Plain-data description of a handle, for snapshots (`kind` plus handle-specific fields). */
export interface HandleDescription {
  kind: string;
  [key: string]: unknown;
}

function fail(errno: number, message: string): never {
  throw new WasiError(message, errno);
}

/**
 * An open file description. Subclass it and override what the resource supports.
 *
 * @example
 * ```ts
 * class Counter extends Handle {
 *   #n = 0;
 *   override read(dst: Uint8Array): number {
 *     dst[0] = this.#n++;
 *     return 1;
 *   }
 * }
 * ```
 */
export class Handle {
  #refs = 0;

  /** preview1 filetype (`FILETYPE_*`). */
  get filetype(): number {
    return FILETYPE_UNKNOWN;
  }

  /** The widest base rights an fd for this handle may have. */
  get maxRights(): number {
    return RIGHTS_STREAM;
  }

  /** The widest inheriting rights. */
  get maxInheritingRights(): number {
    return 0;
  }

  /** Why a blocking read on this handle waits (stdin handles answer "stdin"). */
  get readBlockReason(): BlockReason {
    return "read";
  }

  /** Reads into `dst`; returns the bytes read (0 at end of file). */
  read(_dst: Uint8Array): number | Promise<number> {
    fail(ERRNO_BADF, "This descriptor is not open for reading");
  }

  /** Writes `src`; returns the bytes written. */
  write(_src: Uint8Array): number | Promise<number> {
    fail(ERRNO_BADF, "This descriptor is not open for writing");
  }

  /** Reads at an absolute position without moving the cursor. */
  pread(_dst: Uint8Array, _pos: number): number {
    fail(ERRNO_SPIPE, "This descriptor is not seekable");
  }

  /** Writes at an absolute position without moving the cursor. */
  pwrite(_src: Uint8Array, _pos: number): number {
    fail(ERRNO_SPIPE, "This descriptor is not seekable");
  }

  /** Moves the cursor (`whence` is a `WHENCE_*`); returns the new position. */
  seek(_offset: number, _whence: number): number {
    fail(ERRNO_SPIPE, "This descriptor is not seekable");
  }

  /** The cursor position. */
  tell(): number {
    fail(ERRNO_SPIPE, "This descriptor is not seekable");
  }

  stat(): HandleStat {
    return {
      dev: 0,
      ino: 0,
      filetype: this.filetype,
      nlink: 1,
      size: 0,
      atim: 0n,
      mtim: 0n,
      ctim: 0n,
    };
  }

  setSize(_size: number): void {
    fail(ERRNO_INVAL, "Cannot set the size of this descriptor");
  }

  /** Sets times in ns; `null` leaves one unchanged. */
  setTimes(_atim: bigint | null, _mtim: bigint | null): void {
    fail(ERRNO_NOTSUP, "Cannot set the times of this descriptor");
  }

  allocate(_offset: number, _len: number): void {
    fail(ERRNO_NOTSUP, "Cannot allocate space on this descriptor");
  }

  advise(_offset: number, _len: number, _advice: number): void {
    fail(ERRNO_SPIPE, "Cannot advise on this descriptor");
  }

  sync(): void {
    fail(ERRNO_INVAL, "Cannot sync this descriptor");
  }

  datasync(): void {
    this.sync();
  }

  /**
   * Directory entry number `cookie` ("." is 0, ".." is 1), or null past the end. The result may
   * be a reused object: `fd_readdir` copies it out before asking for the next entry.
   */
  readdir(_cookie: number): HandleDirent | null {
    fail(ERRNO_NOTDIR, "Not a directory");
  }

  /** Called by `fd_fdstat_set_flags` after the fd entry's flags changed (sockets use it). */
  setFdflags(_flags: number): void {}

  // ---- readiness (poll_oneoff and blocking reads/writes) ----

  /** True when a read would not block. */
  pollReadable(): boolean {
    return true;
  }

  /** True when a write would not block. */
  pollWritable(): boolean {
    return true;
  }

  /** Bytes readable now, reported by `poll_oneoff` (0 when unknown). */
  bytesReadable(): number {
    return 0;
  }

  /** True once the peer hung up (reported as `fd_readwrite_hangup`). */
  hangup(): boolean {
    return false;
  }

  /** Resolves when {@link pollReadable} may have become true. */
  waitReadable(_signal?: AbortSignal): Promise<void> {
    return Promise.resolve();
  }

  /** Resolves when {@link pollWritable} may have become true. */
  waitWritable(_signal?: AbortSignal): Promise<void> {
    return Promise.resolve();
  }

  // ---- sockets (runtime/wasix overrides these) ----

  /** Receives into `dst` (`riflags` is `RIFLAGS_*`); returns bytes received. */
  sockRecv(_dst: Uint8Array, _riflags: number): number | Promise<number> {
    fail(ERRNO_NOTSOCK, "Not a socket");
  }

  sockSend(_src: Uint8Array, _siflags: number): number | Promise<number> {
    fail(ERRNO_NOTSOCK, "Not a socket");
  }

  /** Shuts down reading and/or writing (`SDFLAGS_*`). */
  sockShutdown(_how: number): void {
    fail(ERRNO_NOTSOCK, "Not a socket");
  }

  /** Accepts a pending connection without blocking; answer EAGAIN when none is pending. */
  sockAccept(_fdflags: number): Handle {
    fail(ERRNO_NOTSOCK, "Not a socket");
  }

  // ---- lifetime ----

  /** Counts one more fd referring to this description. */
  retain(): this {
    this.#refs++;
    return this;
  }

  /** Drops one fd; closes the description when it was the last. */
  release(): void | Promise<void> {
    if (--this.#refs <= 0) return this.close();
  }

  /** Releases resources. Called once, when the last fd is closed. */
  close(): void | Promise<void> {}

  /** Plain data describing this handle for snapshots. */
  describe(): HandleDescription {
    return { kind: this.constructor.name };
  }
}

/** Raised by directory handles for byte I/O. */
export function isDirError(): never {
  fail(ERRNO_ISDIR, "Is a directory");
}
