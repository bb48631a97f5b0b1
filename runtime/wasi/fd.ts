/**
 * The `fd_*` syscalls. Reads and writes go straight from guest memory to the handle without
 * copies or allocations beyond a subarray per iovec; blocking reads follow the readiness protocol
 * of `handle.ts`.
 *
 * @module
 */

import {
  ADVICE_NOREUSE,
  DIRENT_SIZE,
  ERRNO_AGAIN,
  ERRNO_BADF,
  ERRNO_INVAL,
  ERRNO_NAMETOOLONG,
  ERRNO_NOTCAPABLE,
  ERRNO_NOTSUP,
  ERRNO_SUCCESS,
  FDFLAGS_ALL,
  FDFLAGS_APPEND,
  FDFLAGS_NONBLOCK,
  FILESTAT_SIZE,
  FILETYPE_DIRECTORY,
  FILETYPE_REGULAR_FILE,
  FSTFLAGS_ATIM,
  FSTFLAGS_ATIM_NOW,
  FSTFLAGS_MTIM,
  FSTFLAGS_MTIM_NOW,
  IOVEC_SIZE,
  PREOPENTYPE_DIR,
  RIGHTS_ALL,
  RIGHTS_FD_ADVISE,
  RIGHTS_FD_DATASYNC,
  RIGHTS_FD_FDSTAT_SET_FLAGS,
  RIGHTS_FD_FILESTAT_GET,
  RIGHTS_FD_FILESTAT_SET_SIZE,
  RIGHTS_FD_FILESTAT_SET_TIMES,
  RIGHTS_FD_READ,
  RIGHTS_FD_READDIR,
  RIGHTS_FD_SYNC,
  RIGHTS_FD_WRITE,
} from "./defs.ts";
import { WasiError } from "./errors.ts";
import { FileHandle } from "./file_handle.ts";
import type { HandleStat } from "./handle.ts";
import type { GuestMemory } from "./memory.ts";
import type { Process, SyscallResult } from "./process.ts";

const encoder = new TextEncoder();
const scratch = new Uint8Array(DIRENT_SIZE);
const scratchView = new DataView(scratch.buffer);

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

/** Writes a `filestat` (see defs.ts for the layout). */
export function writeStat(mem: GuestMemory, ptr: number, st: HandleStat): void {
  const dv = mem.view(ptr, FILESTAT_SIZE);
  ptr >>>= 0;
  mem.setU64n(ptr, st.dev);
  mem.setU64n(ptr + 8, st.ino);
  dv.setUint32(ptr + 16, st.filetype, true);
  dv.setUint32(ptr + 20, 0, true);
  mem.setU64n(ptr + 24, st.nlink);
  mem.setU64n(ptr + 32, st.size);
  dv.setBigUint64(ptr + 40, st.atim, true);
  dv.setBigUint64(ptr + 48, st.mtim, true);
  dv.setBigUint64(ptr + 56, st.ctim, true);
}

/**
 * Decodes `fst_flags` into the times to set (`null` = leave unchanged).
 *
 * @throws {WasiError} EINVAL for contradictory or unknown flags.
 */
export function timesFromFlags(
  proc: Process,
  atim: bigint,
  mtim: bigint,
  flags: number,
): [bigint | null, bigint | null] {
  if (
    (flags & ~15) !== 0 ||
    ((flags & FSTFLAGS_ATIM) && (flags & FSTFLAGS_ATIM_NOW)) ||
    ((flags & FSTFLAGS_MTIM) && (flags & FSTFLAGS_MTIM_NOW))
  ) {
    throw new WasiError(`Invalid fst_flags 0x${flags.toString(16)}`, ERRNO_INVAL);
  }
  const now = (flags & (FSTFLAGS_ATIM_NOW | FSTFLAGS_MTIM_NOW))
    ? BigInt(proc.clock.realtime())
    : 0n;
  return [
    flags & FSTFLAGS_ATIM_NOW ? now : flags & FSTFLAGS_ATIM ? BigInt.asUintN(64, atim) : null,
    flags & FSTFLAGS_MTIM_NOW ? now : flags & FSTFLAGS_MTIM ? BigInt.asUintN(64, mtim) : null,
  ];
}

/** A non-negative i64 argument as a number (EINVAL when negative or beyond 2^53). */
export function u64Arg(v: bigint, what: string): number {
  if (v < 0n || v > 9007199254740991n) {
    throw new WasiError(`Invalid ${what}: ${v}`, ERRNO_INVAL);
  }
  return Number(v);
}

/** The `fd_*` syscalls of `proc`. */
export function fdSyscalls(proc: Process) {
  const mem = proc.mem;
  const fds = proc.fds;

  function fd_read(fd: number, iovs: number, iovsLen: number, nPtr: number): SyscallResult {
    const entry = fds.get(fd);
    if (entry === undefined) throw new WasiError(`Bad file descriptor ${fd}`, ERRNO_BADF);
    if ((entry.rightsBase & RIGHTS_FD_READ) === 0) {
      throw new WasiError(`fd ${fd} is not open for reading`, ERRNO_BADF);
    }
    const h = entry.handle;
    mem.view(nPtr, 4);
    iovs >>>= 0;
    iovsLen >>>= 0;
    const dv = mem.view(iovs, iovsLen * IOVEC_SIZE);
    if (!h.pollReadable()) {
      if (entry.fdflags & FDFLAGS_NONBLOCK) throw new WasiError("Read would block", ERRNO_AGAIN);
      return proc.block(
        { syscall: "fd_read", reason: h.readBlockReason, fd },
        () => h.waitReadable(),
        () => fd_read(fd, iovs, iovsLen, nPtr),
      );
    }
    let total = 0;
    for (let i = 0; i < iovsLen; i++) {
      const p = iovs + i * IOVEC_SIZE;
      const len = dv.getUint32(p + 4, true);
      const dst = mem.bytes(dv.getUint32(p, true), len);
      const r = h.read(dst);
      if (typeof r !== "number") {
        if (total > 0) break;
        return r.then((n) => {
          mem.setU32(nPtr, n);
          return ERRNO_SUCCESS;
        });
      }
      total += r;
      if (r < len) break;
    }
    mem.setU32(nPtr, total);
    return ERRNO_SUCCESS;
  }

  function fd_write(fd: number, iovs: number, iovsLen: number, nPtr: number): SyscallResult {
    const entry = fds.get(fd);
    if (entry === undefined) throw new WasiError(`Bad file descriptor ${fd}`, ERRNO_BADF);
    if ((entry.rightsBase & RIGHTS_FD_WRITE) === 0) {
      throw new WasiError(`fd ${fd} is not open for writing`, ERRNO_BADF);
    }
    const h = entry.handle;
    mem.view(nPtr, 4);
    iovs >>>= 0;
    iovsLen >>>= 0;
    const dv = mem.view(iovs, iovsLen * IOVEC_SIZE);
    if (!h.pollWritable()) {
      if (entry.fdflags & FDFLAGS_NONBLOCK) throw new WasiError("Write would block", ERRNO_AGAIN);
      return proc.block(
        { syscall: "fd_write", reason: "read", fd },
        () => h.waitWritable(),
        () => fd_write(fd, iovs, iovsLen, nPtr),
      );
    }
    if ((entry.fdflags & FDFLAGS_APPEND) !== 0 && h instanceof FileHandle) {
      h.position = h.io.size();
    }
    let total = 0;
    for (let i = 0; i < iovsLen; i++) {
      const p = iovs + i * IOVEC_SIZE;
      const len = dv.getUint32(p + 4, true);
      const src = mem.bytes(dv.getUint32(p, true), len);
      const r = h.write(src);
      if (typeof r !== "number") {
        if (total > 0) break;
        return r.then((n) => {
          mem.setU32(nPtr, n);
          return ERRNO_SUCCESS;
        });
      }
      total += r;
      if (r < len) break;
    }
    mem.setU32(nPtr, total);
    return ERRNO_SUCCESS;
  }

  function iovLoop(
    iovs: number,
    iovsLen: number,
    offset: number,
    op: (buf: Uint8Array, pos: number) => number,
  ): number {
    iovs >>>= 0;
    iovsLen >>>= 0;
    const dv = mem.view(iovs, iovsLen * IOVEC_SIZE);
    let total = 0;
    for (let i = 0; i < iovsLen; i++) {
      const p = iovs + i * IOVEC_SIZE;
      const len = dv.getUint32(p + 4, true);
      const n = op(mem.bytes(dv.getUint32(p, true), len), offset + total);
      total += n;
      if (n < len) break;
    }
    return total;
  }

  return {
    fd_advise(fd: number, offset: bigint, len: bigint, advice: number): number {
      const h = fds.entry(fd, RIGHTS_FD_ADVISE).handle;
      if (advice < 0 || advice > ADVICE_NOREUSE) {
        throw new WasiError(`Invalid advice ${advice}`, ERRNO_INVAL);
      }
      h.advise(u64Arg(offset, "offset"), u64Arg(len, "length"), advice);
      return ERRNO_SUCCESS;
    },

    fd_allocate(fd: number, offset: bigint, len: bigint): number {
      // As wasmtime: a regular file answers NOTSUP (preallocation is not offered); anything
      // else answers BADF.
      const h = fds.entry(fd, 0).handle;
      u64Arg(offset, "offset");
      u64Arg(len, "length");
      if (h.filetype !== FILETYPE_REGULAR_FILE) {
        throw new WasiError(`fd ${fd} is not a regular file`, ERRNO_BADF);
      }
      throw new WasiError("fd_allocate is not supported (as in wasmtime)", ERRNO_NOTSUP);
    },

    fd_close(fd: number): number {
      const r = fds.close(fd);
      if (r instanceof Promise) r.catch(() => {}); // the fd is gone either way
      return ERRNO_SUCCESS;
    },

    fd_datasync(fd: number): number {
      fds.entry(fd, RIGHTS_FD_DATASYNC).handle.datasync();
      return ERRNO_SUCCESS;
    },

    fd_fdstat_get(fd: number, ptr: number): number {
      const e = fds.entry(fd, 0);
      const dv = mem.view(ptr, 24);
      ptr >>>= 0;
      dv.setUint8(ptr, e.handle.filetype);
      dv.setUint8(ptr + 1, 0);
      dv.setUint16(ptr + 2, e.fdflags, true);
      dv.setUint32(ptr + 4, 0, true);
      mem.setU64n(ptr + 8, e.rightsBase);
      mem.setU64n(ptr + 16, e.rightsInheriting);
      return ERRNO_SUCCESS;
    },

    fd_fdstat_set_flags(fd: number, flags: number): number {
      const e = fds.entry(fd, RIGHTS_FD_FDSTAT_SET_FLAGS);
      if ((flags & ~FDFLAGS_ALL) !== 0) {
        throw new WasiError(`Invalid fdflags 0x${flags.toString(16)}`, ERRNO_INVAL);
      }
      e.handle.setFdflags(flags);
      e.fdflags = flags;
      return ERRNO_SUCCESS;
    },

    fd_fdstat_set_rights(fd: number, base: bigint, inheriting: bigint): number {
      const e = fds.entry(fd, 0);
      const b = Number(BigInt.asUintN(64, base) & BigInt(RIGHTS_ALL));
      const i = Number(BigInt.asUintN(64, inheriting) & BigInt(RIGHTS_ALL));
      if ((b & ~e.rightsBase) !== 0 || (i & ~e.rightsInheriting) !== 0) {
        throw new WasiError("fd_fdstat_set_rights can only drop rights", ERRNO_NOTCAPABLE);
      }
      e.rightsBase = b;
      e.rightsInheriting = i;
      return ERRNO_SUCCESS;
    },

    fd_filestat_get(fd: number, ptr: number): number {
      const h = fds.entry(fd, RIGHTS_FD_FILESTAT_GET).handle;
      mem.view(ptr, FILESTAT_SIZE);
      writeStat(mem, ptr, h.stat());
      return ERRNO_SUCCESS;
    },

    fd_filestat_set_size(fd: number, size: bigint): number {
      const h = fds.entry(fd, RIGHTS_FD_FILESTAT_SET_SIZE).handle;
      h.setSize(u64Arg(size, "size"));
      return ERRNO_SUCCESS;
    },

    fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, flags: number): number {
      const h = fds.entry(fd, RIGHTS_FD_FILESTAT_SET_TIMES).handle;
      const [a, m] = timesFromFlags(proc, atim, mtim, flags);
      h.setTimes(a, m);
      return ERRNO_SUCCESS;
    },

    fd_pread(fd: number, iovs: number, iovsLen: number, offset: bigint, nPtr: number): number {
      const h = fds.entry(fd, RIGHTS_FD_READ).handle;
      mem.view(nPtr, 4);
      const off = u64Arg(offset, "offset");
      mem.setU32(nPtr, iovLoop(iovs, iovsLen, off, (b, p) => h.pread(b, p)));
      return ERRNO_SUCCESS;
    },

    fd_pwrite(fd: number, iovs: number, iovsLen: number, offset: bigint, nPtr: number): number {
      const entry = fds.entry(fd, RIGHTS_FD_WRITE);
      const h = entry.handle;
      mem.view(nPtr, 4);
      let off = u64Arg(offset, "offset");
      // Linux and wasmtime: with APPEND, pwrite ignores the offset and appends.
      if ((entry.fdflags & FDFLAGS_APPEND) !== 0 && h instanceof FileHandle) off = h.io.size();
      mem.setU32(nPtr, iovLoop(iovs, iovsLen, off, (b, p) => h.pwrite(b, p)));
      return ERRNO_SUCCESS;
    },

    fd_prestat_get(fd: number, ptr: number): number {
      const e = fds.get(fd);
      if (e === undefined || e.preopenPath === undefined) {
        throw new WasiError(`fd ${fd} is not a preopened directory`, ERRNO_BADF);
      }
      const dv = mem.view(ptr, 8);
      dv.setUint32(ptr >>> 0, PREOPENTYPE_DIR, true);
      dv.setUint32((ptr >>> 0) + 4, encoder.encode(e.preopenPath).length, true);
      return ERRNO_SUCCESS;
    },

    fd_prestat_dir_name(fd: number, path: number, len: number): number {
      const e = fds.get(fd);
      if (e === undefined || e.preopenPath === undefined) {
        throw new WasiError(`fd ${fd} is not a preopened directory`, ERRNO_BADF);
      }
      const name = encoder.encode(e.preopenPath);
      if ((len >>> 0) < name.length) {
        throw new WasiError("Buffer too small for the preopen's name", ERRNO_NAMETOOLONG);
      }
      mem.write(path, name);
      return ERRNO_SUCCESS;
    },

    fd_read,

    fd_readdir(fd: number, buf: number, bufLen: number, cookie: bigint, usedPtr: number): number {
      const h = fds.entry(fd, 0).handle;
      if (h.filetype === FILETYPE_DIRECTORY) fds.entry(fd, RIGHTS_FD_READDIR);
      buf >>>= 0;
      bufLen >>>= 0;
      const dv = mem.view(buf, bufLen);
      mem.view(usedPtr, 4);
      if (cookie > 0xffffffffn || cookie < 0n) {
        h.readdir(0); // ENOTDIR for non-directories
        mem.setU32(usedPtr, 0);
        return ERRNO_SUCCESS;
      }
      let c = Number(cookie);
      let used = 0;
      while (used < bufLen) {
        const ent = h.readdir(c);
        if (ent === null) break;
        c = ent.next ?? c + 1;
        // Names may come as strings: ASCII ones are written without an intermediate array.
        const raw = ent.name;
        const bytes = typeof raw === "string" ? (isAscii(raw) ? null : encoder.encode(raw)) : raw;
        const namlen = bytes === null ? (raw as string).length : bytes.length;
        const at = buf + used;
        const room = bufLen - used;
        if (room >= DIRENT_SIZE) {
          dv.setUint32(at, c, true);
          dv.setUint32(at + 4, 0, true);
          mem.setU64n(at + 8, ent.ino);
          dv.setUint32(at + 16, namlen, true);
          dv.setUint32(at + 20, ent.filetype, true);
        } else {
          scratchView.setUint32(0, c, true);
          scratchView.setUint32(4, 0, true);
          scratchView.setUint32(8, ent.ino >>> 0, true);
          scratchView.setUint32(12, Math.floor(ent.ino / 4294967296), true);
          scratchView.setUint32(16, namlen, true);
          scratchView.setUint32(20, ent.filetype, true);
          mem.write(at, scratch.subarray(0, room));
          used = bufLen;
          break;
        }
        used += DIRENT_SIZE;
        const n = Math.min(namlen, bufLen - used);
        if (bytes !== null) mem.write(buf + used, n === namlen ? bytes : bytes.subarray(0, n));
        else {
          const u8 = mem.u8(buf + used, n);
          const at2 = buf + used;
          for (let k = 0; k < n; k++) u8[at2 + k] = (raw as string).charCodeAt(k);
        }
        used += n;
      }
      mem.setU32(usedPtr, used);
      return ERRNO_SUCCESS;
    },

    fd_renumber(from: number, to: number): number {
      const r = fds.renumber(from, to);
      if (r instanceof Promise) r.catch(() => {});
      return ERRNO_SUCCESS;
    },

    fd_seek(fd: number, offset: bigint, whence: number, ptr: number): number {
      const h = fds.entry(fd, 0).handle;
      mem.view(ptr, 8);
      if (offset < -9007199254740991n || offset > 9007199254740991n) {
        throw new WasiError(`Seek offset out of range: ${offset}`, ERRNO_INVAL);
      }
      mem.setU64n(ptr, h.seek(Number(offset), whence));
      return ERRNO_SUCCESS;
    },

    fd_sync(fd: number): number {
      fds.entry(fd, RIGHTS_FD_SYNC).handle.sync();
      return ERRNO_SUCCESS;
    },

    fd_tell(fd: number, ptr: number): number {
      const h = fds.entry(fd, 0).handle;
      mem.view(ptr, 8);
      mem.setU64n(ptr, h.tell());
      return ERRNO_SUCCESS;
    },

    fd_write,
  };
}
