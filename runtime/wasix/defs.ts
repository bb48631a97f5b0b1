/**
 * WASIX-only constants and struct codecs (wasix_32v1), little-endian.
 *
 * Sources: the WASIX witx (wasix-org/wasix-witx, `wasix_v1.witx` and `typenames.witx`) and the
 * C layouts wasix-libc generates from it (`wasi/api_wasix.h`). Preview1 constants stay in
 * `runtime/wasi/defs.ts`. The C mirror for guests is `include/wasix.h`.
 *
 * @module
 */

import type { SocketAddress } from "../vnet/mod.ts";
import { bytesToIp, ipToBytes } from "../vnet/mod.ts";

// ---- address_family (u8) -------------------------------------------------------------------------

export const ADDRESS_FAMILY_UNSPEC = 0;
export const ADDRESS_FAMILY_INET4 = 1;
export const ADDRESS_FAMILY_INET6 = 2;
export const ADDRESS_FAMILY_UNIX = 3;

// ---- sock_type (u8); 0 is deliberately unused in the witx ----------------------------------------

export const SOCK_TYPE_STREAM = 1;
export const SOCK_TYPE_DGRAM = 2;
export const SOCK_TYPE_RAW = 3;
export const SOCK_TYPE_SEQPACKET = 4;

// ---- sock_proto (u16) ------------------------------------------------------------------------

export const SOCK_PROTO_IP = 0;
export const SOCK_PROTO_TCP = 6;
export const SOCK_PROTO_UDP = 17;

// ---- sock_status (u8) ------------------------------------------------------------------------

export const SOCK_STATUS_OPENING = 0;
export const SOCK_STATUS_OPENED = 1;
export const SOCK_STATUS_CLOSED = 2;
export const SOCK_STATUS_FAILED = 3;

// ---- sock_option (u8) ------------------------------------------------------------------------

export const SOCK_OPTION_NOOP = 0;
export const SOCK_OPTION_REUSE_PORT = 1;
export const SOCK_OPTION_REUSE_ADDR = 2;
export const SOCK_OPTION_NO_DELAY = 3;
export const SOCK_OPTION_DONT_ROUTE = 4;
export const SOCK_OPTION_ONLY_V6 = 5;
export const SOCK_OPTION_BROADCAST = 6;
export const SOCK_OPTION_MULTICAST_LOOP_V4 = 7;
export const SOCK_OPTION_MULTICAST_LOOP_V6 = 8;
export const SOCK_OPTION_PROMISCUOUS = 9;
export const SOCK_OPTION_LISTENING = 10;
export const SOCK_OPTION_LAST_ERROR = 11;
export const SOCK_OPTION_KEEP_ALIVE = 12;
export const SOCK_OPTION_LINGER = 13;
export const SOCK_OPTION_OOB_INLINE = 14;
export const SOCK_OPTION_RECV_BUF_SIZE = 15;
export const SOCK_OPTION_SEND_BUF_SIZE = 16;
export const SOCK_OPTION_RECV_LOWAT = 17;
export const SOCK_OPTION_SEND_LOWAT = 18;
export const SOCK_OPTION_RECV_TIMEOUT = 19;
export const SOCK_OPTION_SEND_TIMEOUT = 20;
export const SOCK_OPTION_CONNECT_TIMEOUT = 21;
export const SOCK_OPTION_ACCEPT_TIMEOUT = 22;
export const SOCK_OPTION_TTL = 23;
export const SOCK_OPTION_MULTICAST_TTL_V4 = 24;
export const SOCK_OPTION_TYPE = 25;
export const SOCK_OPTION_PROTO = 26;

// ---- eventfdflags (u16), fdflagsext (u16), bool (u8), option tag (u8) -------------------------

export const EVENTFDFLAGS_SEMAPHORE = 1 << 0;
export const FDFLAGSEXT_CLOEXEC = 1 << 0;
export const BOOL_FALSE = 0;
export const BOOL_TRUE = 1;
export const OPTION_NONE = 0;
export const OPTION_SOME = 1;

// ---- epoll -----------------------------------------------------------------------------------

export const EPOLLIN = 1 << 0;
export const EPOLLOUT = 1 << 1;
export const EPOLLRDHUP = 1 << 2;
export const EPOLLPRI = 1 << 3;
export const EPOLLERR = 1 << 4;
export const EPOLLHUP = 1 << 5;
export const EPOLLET = 1 << 6;
export const EPOLLONESHOT = 1 << 7;
export const EPOLL_CTL_ADD = 0;
export const EPOLL_CTL_MOD = 1;
export const EPOLL_CTL_DEL = 2;

// ---- struct layouts ----------------------------------------------------------------------------

/**
 * `addr_port`: `tag: u8 @0`, union @2. inet4: `port: u16 @2` (host order), 4 address bytes @4.
 * inet6: `port: u16 @2`, 16 address bytes @4, flow info and scope id u16 pairs @20..28.
 * unix: 108 path bytes @2. Size 110, align 2.
 */
export const ADDR_PORT_SIZE = 110;

/** `addr_ip` (resolve's output): `tag: u8 @0`, 4 or 16 address bytes @2. Size 18, align 2. */
export const ADDR_IP_SIZE = 18;

/** `option_timestamp`: `tag: u8 @0`, `u: u64 @8`. Size 16. */
export const OPTION_TIMESTAMP_SIZE = 16;

/**
 * `epoll_event`: `events: u32 @0`, `data.ptr: u32 @8`, `data.fd: u32 @12`, `data.data1: u32 @16`,
 * `data.data2: u64 @24`. Size 32.
 */
export const EPOLL_EVENT_SIZE = 32;

/**
 * `tty`: `cols, rows, width, height: u32 @0..16`, then bools `stdin_tty @16`, `stdout_tty @17`,
 * `stderr_tty @18`, `echo @19`, `line_buffered @20`, `line_feeds @21`. Size 24.
 */
export const TTY_SIZE = 24;

// ---- codecs ------------------------------------------------------------------------------------

/** A decoded `addr_port`: an IP socket address, a unix path, or unspecified. */
export type WasixAddress =
  | { kind: "ip"; address: SocketAddress }
  | { kind: "unix"; path: string }
  | { kind: "unspec"; port: number };

/** Reads an `addr_port` at `ptr` (bounds-checked by the caller for `ADDR_PORT_SIZE`). */
export function readAddrPort(view: DataView, ptr: number): WasixAddress | null {
  const tag = view.getUint8(ptr);
  const port = view.getUint16(ptr + 2, true);
  if (tag === ADDRESS_FAMILY_INET4) {
    const bytes = new Uint8Array(view.buffer, view.byteOffset + ptr + 4, 4);
    return { kind: "ip", address: { family: "ipv4", ip: bytesToIp(bytes), port } };
  }
  if (tag === ADDRESS_FAMILY_INET6) {
    const bytes = new Uint8Array(view.buffer, view.byteOffset + ptr + 4, 16);
    return { kind: "ip", address: { family: "ipv6", ip: bytesToIp(bytes.slice()), port } };
  }
  if (tag === ADDRESS_FAMILY_UNIX) {
    const raw = new Uint8Array(view.buffer, view.byteOffset + ptr + 2, 108);
    const end = raw.indexOf(0);
    return { kind: "unix", path: new TextDecoder().decode(raw.subarray(0, end < 0 ? 107 : end)) };
  }
  if (tag === ADDRESS_FAMILY_UNSPEC) return { kind: "unspec", port };
  return null;
}

/** Writes an IP socket address as an `addr_port` at `ptr`, zero-filling the rest. */
export function writeAddrPort(view: DataView, ptr: number, addr: SocketAddress): void {
  const out = new Uint8Array(view.buffer, view.byteOffset + ptr, ADDR_PORT_SIZE);
  out.fill(0);
  const bytes = ipToBytes(addr.ip) ?? new Uint8Array(addr.family === "ipv6" ? 16 : 4);
  out[0] = bytes.byteLength === 4 ? ADDRESS_FAMILY_INET4 : ADDRESS_FAMILY_INET6;
  view.setUint16(ptr + 2, addr.port, true);
  out.set(bytes, 4);
}

/** Writes a unix `addr_port` with `path` (empty for unnamed sockets). */
export function writeAddrUnix(view: DataView, ptr: number, path: string): void {
  const out = new Uint8Array(view.buffer, view.byteOffset + ptr, ADDR_PORT_SIZE);
  out.fill(0);
  out[0] = ADDRESS_FAMILY_UNIX;
  out.set(new TextEncoder().encode(path).subarray(0, 107), 2);
}

/** Writes an unspecified `addr_port` (used for unnamed peers such as socket pairs). */
export function writeAddrUnspec(view: DataView, ptr: number): void {
  new Uint8Array(view.buffer, view.byteOffset + ptr, ADDR_PORT_SIZE).fill(0);
}

/** Writes an `addr_ip` (an element of resolve's output) at `ptr`. */
export function writeAddrIp(view: DataView, ptr: number, ip: string): void {
  const out = new Uint8Array(view.buffer, view.byteOffset + ptr, ADDR_IP_SIZE);
  out.fill(0);
  const bytes = ipToBytes(ip)!;
  out[0] = bytes.byteLength === 4 ? ADDRESS_FAMILY_INET4 : ADDRESS_FAMILY_INET6;
  out.set(bytes, 2);
}

/** Reads an `option_timestamp`: null for none. */
export function readOptionTimestamp(view: DataView, ptr: number): bigint | null {
  return view.getUint8(ptr) === OPTION_SOME ? view.getBigUint64(ptr + 8, true) : null;
}

/** Writes an `option_timestamp`. */
export function writeOptionTimestamp(view: DataView, ptr: number, value: bigint | null): void {
  new Uint8Array(view.buffer, view.byteOffset + ptr, OPTION_TIMESTAMP_SIZE).fill(0);
  view.setUint8(ptr, value === null ? OPTION_NONE : OPTION_SOME);
  if (value !== null) view.setBigUint64(ptr + 8, value, true);
}

/** A decoded `epoll_event`. */
export interface EpollEvent {
  events: number;
  ptr: number;
  fd: number;
  data1: number;
  data2: bigint;
}

/** Reads an `epoll_event` at `ptr`. */
export function readEpollEvent(view: DataView, ptr: number): EpollEvent {
  return {
    events: view.getUint32(ptr, true),
    ptr: view.getUint32(ptr + 8, true),
    fd: view.getUint32(ptr + 12, true),
    data1: view.getUint32(ptr + 16, true),
    data2: view.getBigUint64(ptr + 24, true),
  };
}

/** Writes an `epoll_event` at `ptr`. */
export function writeEpollEvent(view: DataView, ptr: number, e: EpollEvent): void {
  view.setUint32(ptr, e.events, true);
  view.setUint32(ptr + 4, 0, true);
  view.setUint32(ptr + 8, e.ptr, true);
  view.setUint32(ptr + 12, e.fd, true);
  view.setUint32(ptr + 16, e.data1, true);
  view.setUint32(ptr + 20, 0, true);
  view.setBigUint64(ptr + 24, e.data2, true);
}

/** A decoded `tty`. */
export interface Tty {
  cols: number;
  rows: number;
  width: number;
  height: number;
  stdinTty: boolean;
  stdoutTty: boolean;
  stderrTty: boolean;
  echo: boolean;
  lineBuffered: boolean;
  lineFeeds: boolean;
}

/** Reads a `tty` at `ptr`. */
export function readTty(view: DataView, ptr: number): Tty {
  const b = (o: number) => view.getUint8(ptr + o) !== 0;
  return {
    cols: view.getUint32(ptr, true),
    rows: view.getUint32(ptr + 4, true),
    width: view.getUint32(ptr + 8, true),
    height: view.getUint32(ptr + 12, true),
    stdinTty: b(16),
    stdoutTty: b(17),
    stderrTty: b(18),
    echo: b(19),
    lineBuffered: b(20),
    lineFeeds: b(21),
  };
}

/** Writes a `tty` at `ptr`. */
export function writeTty(view: DataView, ptr: number, t: Tty): void {
  new Uint8Array(view.buffer, view.byteOffset + ptr, TTY_SIZE).fill(0);
  view.setUint32(ptr, t.cols, true);
  view.setUint32(ptr + 4, t.rows, true);
  view.setUint32(ptr + 8, t.width, true);
  view.setUint32(ptr + 12, t.height, true);
  const flags = [t.stdinTty, t.stdoutTty, t.stderrTty, t.echo, t.lineBuffered, t.lineFeeds];
  flags.forEach((f, i) => view.setUint8(ptr + 16 + i, f ? 1 : 0));
}
