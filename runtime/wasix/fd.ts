/**
 * WASIX fd calls: `fd_dup`, `fd_dup2`, `fd_fdflags_get`, `fd_fdflags_set`. A duplicate shares the
 * open description (its socket, pipe end or file cursor); the description closes with its last fd.
 *
 * @module
 */

import {
  ERRNO_BADF,
  ERRNO_INVAL,
  type FdEntry,
  MAX_FDS,
  type Process,
  type SyscallTable,
} from "../wasi/mod.ts";
import { fail } from "./_errno.ts";
import { FDFLAGSEXT_CLOEXEC } from "./defs.ts";

function entryOf(proc: Process, fd: number): FdEntry {
  const e = proc.fds.get(fd);
  if (e === undefined) fail(ERRNO_BADF, `Bad file descriptor ${fd}`);
  return e;
}

/** The fd-duplication family. */
export function fdSyscalls(proc: Process): SyscallTable {
  const copy = (e: FdEntry): FdEntry => ({
    handle: e.handle,
    rightsBase: e.rightsBase,
    rightsInheriting: e.rightsInheriting,
    fdflags: e.fdflags,
    ...(e.preopenPath !== undefined ? { preopenPath: e.preopenPath } : {}),
  });
  return {
    fd_dup(fd: number, roFd: number) {
      const e = entryOf(proc, fd);
      proc.mem.view(roFd, 4);
      const dup = copy(e);
      delete dup.preopenPath; // a duplicate is not a preopen
      proc.mem.setU32(roFd, proc.fds.insert(dup));
      return 0;
    },

    fd_dup2(fd: number, minFd: number, cloexec: number, roFd: number) {
      const e = entryOf(proc, fd);
      proc.mem.view(roFd, 4);
      minFd >>>= 0;
      if (minFd >= MAX_FDS) fail(ERRNO_INVAL, `fd ${minFd} is beyond the limit of ${MAX_FDS}`);
      let target = minFd;
      while (proc.fds.get(target) !== undefined) target++;
      if (target >= MAX_FDS) fail(ERRNO_INVAL, "No free fd at or above the minimum");
      const dup = copy(e);
      delete dup.preopenPath;
      dup.fdflagsext = cloexec ? FDFLAGSEXT_CLOEXEC : 0;
      proc.fds.set(target, dup);
      proc.mem.setU32(roFd, target);
      return 0;
    },

    fd_fdflags_get(fd: number, roFlags: number) {
      const e = entryOf(proc, fd);
      proc.mem.setU16(roFlags, e.fdflagsext ?? 0);
      return 0;
    },

    fd_fdflags_set(fd: number, flags: number) {
      const e = entryOf(proc, fd);
      if ((flags & ~FDFLAGSEXT_CLOEXEC) !== 0) {
        fail(ERRNO_INVAL, `Unknown fd flags ${flags}; only CLOEXEC (1) exists`);
      }
      e.fdflagsext = flags;
      return 0;
    },
  };
}
