/**
 * WASIX socket syscalls (`sock_*`, `resolve`) over {@link SocketHandle}s.
 *
 * Signatures follow wasix-libc's lowering of `wasix_v1.witx`: results go through trailing
 * out-pointers, which are checked before anything happens so that a bad pointer never leaks an fd.
 *
 * @module
 */

import {
  ERRNO_AFNOSUPPORT,
  ERRNO_AGAIN,
  ERRNO_INVAL,
  ERRNO_NOENT,
  ERRNO_NOTCONN,
  ERRNO_NOTSOCK,
  ERRNO_NOTSUP,
  ERRNO_PROTONOSUPPORT,
  type FdEntry,
  FDFLAGS_NONBLOCK,
  IOVEC_SIZE,
  type Process,
  RIFLAGS_RECV_PEEK,
  RIFLAGS_RECV_WAITALL,
  RIGHTS_FD_READ,
  RIGHTS_SOCKET,
  type SyscallTable,
  WasiError,
} from "../wasi/mod.ts";
import { createStreamPair, type SocketAddress } from "../vnet/mod.ts";
import { blocking } from "./_blocking.ts";
import { fail } from "./_errno.ts";
import { wasixState } from "./_state.ts";
import {
  ADDR_IP_SIZE,
  ADDR_PORT_SIZE,
  ADDRESS_FAMILY_INET4,
  ADDRESS_FAMILY_INET6,
  ADDRESS_FAMILY_UNIX,
  OPTION_TIMESTAMP_SIZE,
  readAddrPort,
  readOptionTimestamp,
  SOCK_OPTION_ACCEPT_TIMEOUT,
  SOCK_OPTION_RECV_TIMEOUT,
  SOCK_OPTION_SEND_TIMEOUT,
  SOCK_PROTO_IP,
  SOCK_PROTO_TCP,
  SOCK_TYPE_STREAM,
  writeAddrIp,
  writeAddrPort,
  writeAddrUnix,
  writeAddrUnspec,
  writeOptionTimestamp,
} from "./defs.ts";
import { type SocketFamily, SocketHandle } from "./socket_handle.ts";

/**
 * The reason a send waits for buffer space. A guest waiting to send is busy, not idle, so it must
 * not look like an instaboot idle point (accept/poll/read); "sleep" is never one.
 */
const SEND_WAIT = "sleep" as const;

/** The most `sock_send_file` sends per call (callers loop, as with sendfile(2)). */
const SEND_FILE_CHUNK = 1 << 20;

/** Imports of this family that may suspend the guest. */
export const SOCK_BLOCKING = [
  "sock_send_file",
  "sock_accept",
  "sock_accept_v2",
  "sock_recv",
  "sock_recv_from",
  "sock_send",
  "sock_send_to",
];

/** The socket behind `fd`: EBADF when closed, ENOTSOCK when it is not a socket. */
export function socketOf(proc: Process, fd: number): { sock: SocketHandle; entry: FdEntry } {
  const handle = proc.fds.handle(fd);
  if (!(handle instanceof SocketHandle)) fail(ERRNO_NOTSOCK, `fd ${fd} is not a socket`);
  return { sock: handle, entry: proc.fds.get(fd)! };
}

/** Installs `handle` at the lowest free fd with socket rights. */
export function installSocket(proc: Process, handle: SocketHandle, fdflags = 0): number {
  handle.setFdflags(fdflags);
  return proc.fds.insert({ handle, rightsBase: RIGHTS_SOCKET, rightsInheriting: 0, fdflags });
}

function familyOf(af: number): SocketFamily {
  if (af === ADDRESS_FAMILY_INET4) return "ipv4";
  if (af === ADDRESS_FAMILY_INET6) return "ipv6";
  if (af === ADDRESS_FAMILY_UNIX) return "unix";
  fail(ERRNO_AFNOSUPPORT, `Address family ${af} is not supported; use INET4, INET6 or UNIX`);
}

function checkStream(type: number, proto: number): void {
  if (type !== SOCK_TYPE_STREAM) {
    fail(ERRNO_PROTONOSUPPORT, `Socket type ${type} is not supported; only stream sockets are`);
  }
  if (proto !== SOCK_PROTO_IP && proto !== SOCK_PROTO_TCP) {
    fail(ERRNO_PROTONOSUPPORT, `Protocol ${proto} does not fit a stream socket; use TCP`);
  }
}

function readIpAddress(proc: Process, ptr: number): SocketAddress {
  const view = proc.mem.view(ptr, ADDR_PORT_SIZE);
  const addr = readAddrPort(view, ptr >>> 0);
  if (addr === null) fail(ERRNO_INVAL, "Unknown address family tag in the address");
  if (addr.kind !== "ip") {
    fail(ERRNO_AFNOSUPPORT, "Only IP addresses are supported by the virtual network");
  }
  return addr.address;
}

/** Writes `addr` of `sock` at `ptr`: unix sockets are unnamed, unknown addresses unspecified. */
function writeSocketAddress(
  proc: Process,
  sock: SocketHandle,
  ptr: number,
  addr: SocketAddress | null,
) {
  const view = proc.mem.view(ptr, ADDR_PORT_SIZE);
  if (sock.family === "unix") writeAddrUnix(view, ptr >>> 0, "");
  else if (addr) writeAddrPort(view, ptr >>> 0, addr);
  else writeAddrUnspec(view, ptr >>> 0);
}

/** Reads the iovec list as views into guest memory (valid until the guest runs again). */
export function iovecs(proc: Process, ptr: number, len: number): Uint8Array[] {
  const view = proc.mem.view(ptr, len * IOVEC_SIZE);
  const out: Uint8Array[] = [];
  for (let i = 0; i < len; i++) {
    const p = (ptr >>> 0) + i * IOVEC_SIZE;
    out.push(proc.mem.bytes(view.getUint32(p, true), view.getUint32(p + 4, true)));
  }
  return out;
}

function gather(bufs: Uint8Array[]): Uint8Array {
  const total = bufs.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const b of bufs) {
    out.set(b, off);
    off += b.byteLength;
  }
  return out;
}

/** Receives into the iovecs at `iovPtr`: one attempt, EAGAIN when nothing is there. */
function recvOnce(
  proc: Process,
  sock: SocketHandle,
  iovPtr: number,
  iovLen: number,
  flags: number,
): number {
  const bufs = iovecs(proc, iovPtr, iovLen);
  const total = bufs.reduce((n, b) => n + b.byteLength, 0);
  if ((flags & RIFLAGS_RECV_WAITALL) !== 0 && !(flags & RIFLAGS_RECV_PEEK)) {
    // Wait until the whole request can be met (or the stream ends).
    if (sock.state !== "connected") fail(ERRNO_NOTCONN, "The socket is not connected");
    if (sock.bytesReadable() < total && !sock.peerShutWrite) {
      throw new WasiError("Waiting for the whole message (MSG_WAITALL)", ERRNO_AGAIN);
    }
  }
  if (bufs.length === 1) return sock.recv(bufs[0], flags);
  if ((flags & RIFLAGS_RECV_PEEK) !== 0) {
    const tmp = new Uint8Array(total);
    const n = sock.recv(tmp, flags);
    let off = 0;
    for (const b of bufs) {
      if (off >= n) break;
      const k = Math.min(b.byteLength, n - off);
      b.set(tmp.subarray(off, off + k));
      off += k;
    }
    return n;
  }
  let n = 0;
  for (const b of bufs) {
    if (b.byteLength === 0) continue;
    let k: number;
    try {
      k = sock.recv(b, flags);
    } catch (err) {
      if (n > 0) break; // got some already: return it
      throw err;
    }
    n += k;
    if (k < b.byteLength) break;
  }
  return n;
}

function recvCall(
  proc: Process,
  fd: number,
  iov: number,
  iovLen: number,
  flags: number,
  onDone: (n: number) => void,
) {
  const { sock, entry } = socketOf(proc, fd);
  return blocking(proc, { syscall: "sock_recv", reason: "read", fd }, {
    nonblock: (entry.fdflags & FDFLAGS_NONBLOCK) !== 0,
    wait: () => sock.waitReadable(),
    timeoutNs: sock.getOptTime(SOCK_OPTION_RECV_TIMEOUT),
    ready: () => sock.pollReadable(),
  }, () => {
    const n = recvOnce(proc, sock, iov, iovLen, flags);
    onDone(n);
    return 0;
  });
}

function sendCall(proc: Process, fd: number, iov: number, iovLen: number, roLen: number) {
  const { sock, entry } = socketOf(proc, fd);
  proc.mem.view(roLen, 4);
  return blocking(proc, { syscall: "sock_send", reason: SEND_WAIT, fd }, {
    nonblock: (entry.fdflags & FDFLAGS_NONBLOCK) !== 0,
    wait: () => sock.waitWritable(),
    timeoutNs: sock.getOptTime(SOCK_OPTION_SEND_TIMEOUT),
    ready: () => sock.state !== "connected" || sock.pollWritable(),
  }, () => {
    const bufs = iovecs(proc, iov, iovLen);
    // One iovec is a view of guest memory and must be copied; a gathered buffer is ours already.
    const n = bufs.length === 1 ? sock.send(bufs[0]) : sock.send(gather(bufs), true);
    proc.mem.setU32(roLen, n);
    return 0;
  });
}

function acceptCall(
  proc: Process,
  fd: number,
  fdflags: number,
  roFd: number,
  roAddr: number | null,
) {
  const { sock, entry } = socketOf(proc, fd);
  proc.mem.view(roFd, 4);
  if (roAddr !== null) proc.mem.view(roAddr, ADDR_PORT_SIZE);
  return blocking(proc, { syscall: "sock_accept", reason: "accept", fd }, {
    nonblock: (entry.fdflags & FDFLAGS_NONBLOCK) !== 0,
    wait: () => sock.waitReadable(),
    timeoutNs: sock.getOptTime(SOCK_OPTION_ACCEPT_TIMEOUT),
    ready: () => sock.pollReadable(),
  }, () => {
    const conn = sock.accept();
    const newFd = installSocket(proc, conn, fdflags & FDFLAGS_NONBLOCK);
    proc.mem.setU32(roFd, newFd);
    if (roAddr !== null) writeSocketAddress(proc, conn, roAddr, conn.peerAddress);
    return 0;
  });
}

/**
 * The `sock_*` and `resolve` syscalls of `wasix_32v1`.
 *
 * @example
 * ```ts
 * import { Process } from "../wasi/mod.ts";
 * const table = sockSyscalls(new Process());
 * typeof table.sock_open; // "function"
 * ```
 */
export function sockSyscalls(proc: Process): SyscallTable {
  const state = () => wasixState(proc);
  return {
    sock_open(af: number, type: number, proto: number, roFd: number) {
      const family = familyOf(af);
      checkStream(type, proto);
      proc.mem.view(roFd, 4);
      const fd = installSocket(
        proc,
        new SocketHandle({ family, net: state().net, proto: proto || SOCK_PROTO_TCP }),
      );
      proc.mem.setU32(roFd, fd);
      return 0;
    },

    sock_pair(af: number, type: number, proto: number, roFd1: number, roFd2: number) {
      const family = familyOf(af);
      checkStream(type, proto);
      proc.mem.view(roFd1, 4);
      proc.mem.view(roFd2, 4);
      const unnamed: SocketAddress = { family: "ipv4", ip: "0.0.0.0", port: 0 };
      const [a, b] = createStreamPair(unnamed, unnamed);
      const fd1 = installSocket(proc, SocketHandle.connected(family, a, null));
      const fd2 = installSocket(proc, SocketHandle.connected(family, b, null));
      proc.mem.setU32(roFd1, fd1);
      proc.mem.setU32(roFd2, fd2);
      return 0;
    },

    sock_bind(fd: number, addrPtr: number) {
      const { sock } = socketOf(proc, fd);
      sock.bind(readIpAddress(proc, addrPtr));
      return 0;
    },

    sock_listen(fd: number, backlog: number) {
      socketOf(proc, fd).sock.listen(backlog >>> 0);
      return 0;
    },

    sock_accept_v2(fd: number, fdflags: number, roFd: number, roAddr: number) {
      return acceptCall(proc, fd, fdflags, roFd, roAddr);
    },

    // In wasix_32v1, sock_accept has the sock_accept_v2 signature (as in Wasmer).
    // Older guests import it with preview1's three parameters: then no address is written.
    sock_accept(fd: number, fdflags: number, roFd: number, roAddr?: number) {
      return acceptCall(proc, fd, fdflags, roFd, roAddr ?? null);
    },

    sock_connect(fd: number, addrPtr: number) {
      const { sock } = socketOf(proc, fd);
      sock.connect(readIpAddress(proc, addrPtr));
      return 0;
    },

    sock_recv(
      fd: number,
      iov: number,
      iovLen: number,
      flags: number,
      roLen: number,
      roFlags: number,
    ) {
      proc.mem.view(roLen, 4);
      proc.mem.view(roFlags, 2);
      return recvCall(proc, fd, iov, iovLen, flags, (n) => {
        proc.mem.setU32(roLen, n);
        proc.mem.setU16(roFlags, 0);
      });
    },

    sock_recv_from(
      fd: number,
      iov: number,
      iovLen: number,
      flags: number,
      roLen: number,
      roFlags: number,
      roAddr: number,
    ) {
      proc.mem.view(roLen, 4);
      proc.mem.view(roFlags, 2);
      proc.mem.view(roAddr, ADDR_PORT_SIZE);
      return recvCall(proc, fd, iov, iovLen, flags, (n) => {
        proc.mem.setU32(roLen, n);
        proc.mem.setU16(roFlags, 0);
        const s = socketOf(proc, fd).sock;
        writeSocketAddress(proc, s, roAddr, s.peerAddress);
      });
    },

    sock_send(fd: number, iov: number, iovLen: number, _flags: number, roLen: number) {
      return sendCall(proc, fd, iov, iovLen, roLen);
    },

    sock_send_to(
      fd: number,
      iov: number,
      iovLen: number,
      _flags: number,
      addrPtr: number,
      roLen: number,
    ) {
      readIpAddress(proc, addrPtr); // validated; a connected stream ignores it, as POSIX allows
      return sendCall(proc, fd, iov, iovLen, roLen);
    },

    sock_shutdown(fd: number, how: number) {
      socketOf(proc, fd).sock.sockShutdown(how);
      return 0;
    },

    sock_status(fd: number, roStatus: number) {
      const { sock } = socketOf(proc, fd);
      proc.mem.setU8(roStatus, sock.status);
      return 0;
    },

    sock_addr_local(fd: number, roAddr: number) {
      const { sock } = socketOf(proc, fd);
      writeSocketAddress(proc, sock, roAddr, sock.localAddress);
      return 0;
    },

    sock_addr_peer(fd: number, roAddr: number) {
      const { sock } = socketOf(proc, fd);
      proc.mem.view(roAddr, ADDR_PORT_SIZE);
      if (sock.state !== "connected") fail(ERRNO_NOTCONN, "The socket is not connected");
      writeSocketAddress(proc, sock, roAddr, sock.peerAddress);
      return 0;
    },

    sock_set_opt_flag(fd: number, option: number, flag: number) {
      socketOf(proc, fd).sock.setOptFlag(option, flag !== 0);
      return 0;
    },

    sock_get_opt_flag(fd: number, option: number, roFlag: number) {
      const value = socketOf(proc, fd).sock.getOptFlag(option);
      proc.mem.setU8(roFlag, value ? 1 : 0);
      return 0;
    },

    sock_set_opt_size(fd: number, option: number, size: bigint) {
      socketOf(proc, fd).sock.setOptSize(option, BigInt.asUintN(64, BigInt(size)));
      return 0;
    },

    sock_get_opt_size(fd: number, option: number, roSize: number) {
      const value = socketOf(proc, fd).sock.getOptSize(option);
      proc.mem.setU64(roSize, value);
      return 0;
    },

    sock_set_opt_time(fd: number, option: number, timePtr: number) {
      const { sock } = socketOf(proc, fd);
      const view = proc.mem.view(timePtr, OPTION_TIMESTAMP_SIZE);
      sock.setOptTime(option, readOptionTimestamp(view, timePtr >>> 0));
      return 0;
    },

    sock_get_opt_time(fd: number, option: number, roTime: number) {
      const value = socketOf(proc, fd).sock.getOptTime(option);
      const view = proc.mem.view(roTime, OPTION_TIMESTAMP_SIZE);
      writeOptionTimestamp(view, roTime >>> 0, value);
      return 0;
    },

    resolve(
      hostPtr: number,
      hostLen: number,
      _port: number,
      addrs: number,
      naddrs: number,
      roN: number,
    ) {
      const host = proc.mem.readString(hostPtr, hostLen);
      proc.mem.view(roN, 4);
      const ips = state().net.resolve(host);
      if (ips.length === 0) {
        fail(ERRNO_NOENT, `Cannot resolve "${host}": only localhost and the app's names exist`);
      }
      const n = Math.min(ips.length, naddrs >>> 0);
      const view = proc.mem.view(addrs, n * ADDR_IP_SIZE);
      for (let i = 0; i < n; i++) writeAddrIp(view, (addrs >>> 0) + i * ADDR_IP_SIZE, ips[i]);
      proc.mem.setU32(roN, n);
      return 0;
    },

    // sendfile(2): up to `count` bytes of `inFd` from `offset` (its cursor does not move).
    sock_send_file(outFd: number, inFd: number, offset: bigint, count: bigint, roSent: number) {
      const { sock, entry } = socketOf(proc, outFd);
      const src = proc.fds.entry(inFd, RIGHTS_FD_READ).handle;
      proc.mem.view(roSent, 8);
      const want = Math.min(Number(BigInt.asUintN(64, BigInt(count))), SEND_FILE_CHUNK);
      const buf = new Uint8Array(want);
      const n = src.pread(buf, Number(BigInt.asUintN(64, BigInt(offset))));
      return blocking(proc, { syscall: "sock_send_file", reason: SEND_WAIT, fd: outFd }, {
        nonblock: (entry.fdflags & FDFLAGS_NONBLOCK) !== 0,
        wait: () => sock.waitWritable(),
        timeoutNs: sock.getOptTime(SOCK_OPTION_SEND_TIMEOUT),
      }, () => {
        const sent = sock.send(buf.subarray(0, n), true);
        proc.mem.setU64(roSent, BigInt(sent));
        return 0;
      });
    },
    sock_join_multicast_v4: notsup("multicast"),
    sock_leave_multicast_v4: notsup("multicast"),
    sock_join_multicast_v6: notsup("multicast"),
    sock_leave_multicast_v6: notsup("multicast"),
  };
}

function notsup(what: string) {
  return () => fail(ERRNO_NOTSUP, `${what} is not supported on the virtual network`);
}
