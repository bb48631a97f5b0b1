/**
 * `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown`. They dispatch to the handle's socket
 * methods; non-socket handles answer ENOTSOCK, and socket handles come from `runtime/wasix`.
 * Accept and recv block through the readiness protocol (see `handle.ts`).
 *
 * @module
 */

import {
  ERRNO_AGAIN,
  ERRNO_INVAL,
  ERRNO_NOTSOCK,
  ERRNO_SUCCESS,
  FDFLAGS_NONBLOCK,
  FILETYPE_SOCKET_DGRAM,
  FILETYPE_SOCKET_STREAM,
  IOVEC_SIZE,
  RIGHTS_FD_READ,
  RIGHTS_FD_WRITE,
  RIGHTS_SOCK_SHUTDOWN,
  SDFLAGS_RD,
  SDFLAGS_WR,
} from "./defs.ts";
import { WasiError } from "./errors.ts";
import type { Handle } from "./handle.ts";
import type { Process, SyscallResult } from "./process.ts";

function requireSocket(h: Handle): void {
  const t = h.filetype;
  if (t !== FILETYPE_SOCKET_STREAM && t !== FILETYPE_SOCKET_DGRAM) {
    throw new WasiError("Not a socket", ERRNO_NOTSOCK);
  }
}

/** The socket syscalls of `proc`. */
export function sockSyscalls(proc: Process) {
  const mem = proc.mem;
  const fds = proc.fds;

  function sock_accept(fd: number, flags: number, fdPtr: number): SyscallResult {
    const entry = fds.entry(fd, 0);
    const h = entry.handle;
    requireSocket(h);
    if ((flags & ~FDFLAGS_NONBLOCK) !== 0) {
      throw new WasiError(`sock_accept: unsupported flags 0x${flags.toString(16)}`, ERRNO_INVAL);
    }
    mem.view(fdPtr, 4);
    if (!h.pollReadable()) {
      if (entry.fdflags & FDFLAGS_NONBLOCK) {
        throw new WasiError("No pending connection", ERRNO_AGAIN);
      }
      return proc.block(
        { syscall: "sock_accept", reason: "accept", fd },
        () => h.waitReadable(),
        () => sock_accept(fd, flags, fdPtr),
      );
    }
    const conn = h.sockAccept(flags);
    const newFd = fds.insert({
      handle: conn,
      rightsBase: conn.maxRights,
      rightsInheriting: conn.maxInheritingRights,
      fdflags: flags,
    });
    mem.setU32(fdPtr, newFd);
    return ERRNO_SUCCESS;
  }

  function sock_recv(
    fd: number,
    iovs: number,
    iovsLen: number,
    riflags: number,
    nPtr: number,
    flagsPtr: number,
  ): SyscallResult {
    const entry = fds.entry(fd, 0);
    const h = entry.handle;
    requireSocket(h);
    fds.entry(fd, RIGHTS_FD_READ);
    mem.view(nPtr, 4);
    mem.view(flagsPtr, 2);
    if (!h.pollReadable()) {
      if (entry.fdflags & FDFLAGS_NONBLOCK) {
        throw new WasiError("No data available", ERRNO_AGAIN);
      }
      return proc.block(
        { syscall: "sock_recv", reason: "read", fd },
        () => h.waitReadable(),
        () => sock_recv(fd, iovs, iovsLen, riflags, nPtr, flagsPtr),
      );
    }
    let total = 0;
    iovsLen >>>= 0;
    mem.view(iovs, iovsLen * IOVEC_SIZE);
    for (let i = 0; i < iovsLen; i++) {
      const p = (iovs >>> 0) + i * IOVEC_SIZE;
      const dst = mem.bytes(mem.getU32(p), mem.getU32(p + 4));
      const r = h.sockRecv(dst, riflags);
      if (typeof r !== "number") {
        if (total > 0) break;
        return r.then((n) => {
          mem.setU32(nPtr, n);
          mem.setU16(flagsPtr, 0);
          return ERRNO_SUCCESS;
        });
      }
      total += r;
      if (r < dst.length) break;
    }
    mem.setU32(nPtr, total);
    mem.setU16(flagsPtr, 0);
    return ERRNO_SUCCESS;
  }

  function sock_send(
    fd: number,
    iovs: number,
    iovsLen: number,
    siflags: number,
    nPtr: number,
  ): SyscallResult {
    requireSocket(fds.handle(fd));
    const h = fds.entry(fd, RIGHTS_FD_WRITE).handle;
    mem.view(nPtr, 4);
    let total = 0;
    iovsLen >>>= 0;
    mem.view(iovs, iovsLen * IOVEC_SIZE);
    for (let i = 0; i < iovsLen; i++) {
      const p = (iovs >>> 0) + i * IOVEC_SIZE;
      const src = mem.bytes(mem.getU32(p), mem.getU32(p + 4));
      const r = h.sockSend(src, siflags);
      if (typeof r !== "number") {
        if (total > 0) break;
        return r.then((n) => {
          mem.setU32(nPtr, n);
          return ERRNO_SUCCESS;
        });
      }
      total += r;
      if (r < src.length) break;
    }
    mem.setU32(nPtr, total);
    return ERRNO_SUCCESS;
  }

  return {
    sock_accept,
    sock_recv,
    sock_send,
    sock_shutdown(fd: number, how: number): number {
      const h = fds.entry(fd, 0).handle;
      requireSocket(h);
      if (how === 0 || (how & ~(SDFLAGS_RD | SDFLAGS_WR)) !== 0) {
        throw new WasiError(`sock_shutdown: invalid how ${how}`, ERRNO_INVAL);
      }
      fds.entry(fd, RIGHTS_SOCK_SHUTDOWN);
      h.sockShutdown(how);
      return ERRNO_SUCCESS;
    },
  };
}
