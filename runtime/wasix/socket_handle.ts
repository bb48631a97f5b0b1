/**
 * {@link SocketHandle}: a stream socket on the virtual network (or on a real listener for
 * `--tcplisten`). One description goes through the states new → bound → listening, or
 * new → connected; every operation answers the errno POSIX gives in the wrong state.
 *
 * The handle never blocks: operations that would wait throw `EAGAIN`, and the syscalls (WASIX
 * here, preview1 in runtime/wasi) wait on {@link SocketHandle.waitReadable} /
 * {@link SocketHandle.waitWritable} and retry.
 *
 * @module
 */

import {
  ERRNO_AFNOSUPPORT,
  ERRNO_AGAIN,
  ERRNO_INVAL,
  ERRNO_ISCONN,
  ERRNO_NOTCONN,
  ERRNO_NOTSUP,
  FDFLAGS_NONBLOCK,
  FILETYPE_SOCKET_STREAM,
  Handle,
  type HandleDescription,
  RIFLAGS_RECV_PEEK,
  RIGHTS_SOCKET,
  SDFLAGS_RD,
  SDFLAGS_WR,
} from "../wasi/mod.ts";
import type {
  PortBinding,
  SocketAddress,
  StreamListener,
  VirtualNetwork,
  VStream,
} from "../vnet/mod.ts";
import { fail, net } from "./_errno.ts";
import {
  SOCK_OPTION_ACCEPT_TIMEOUT,
  SOCK_OPTION_CONNECT_TIMEOUT,
  SOCK_OPTION_LAST_ERROR,
  SOCK_OPTION_LINGER,
  SOCK_OPTION_LISTENING,
  SOCK_OPTION_MULTICAST_TTL_V4,
  SOCK_OPTION_NOOP,
  SOCK_OPTION_PROTO,
  SOCK_OPTION_RECV_BUF_SIZE,
  SOCK_OPTION_RECV_TIMEOUT,
  SOCK_OPTION_SEND_BUF_SIZE,
  SOCK_OPTION_SEND_TIMEOUT,
  SOCK_OPTION_TTL,
  SOCK_OPTION_TYPE,
  SOCK_PROTO_TCP,
  SOCK_STATUS_CLOSED,
  SOCK_STATUS_OPENED,
  SOCK_STATUS_OPENING,
  SOCK_TYPE_STREAM,
} from "./defs.ts";

/** The address family of a socket. */
export type SocketFamily = "ipv4" | "ipv6" | "unix";

/** The life cycle of a socket. */
export type SocketState = "new" | "bound" | "listening" | "connected" | "closed";

const SIZE_OPTIONS = new Set([
  SOCK_OPTION_RECV_BUF_SIZE,
  SOCK_OPTION_SEND_BUF_SIZE,
  SOCK_OPTION_TTL,
  SOCK_OPTION_MULTICAST_TTL_V4,
  SOCK_OPTION_LINGER,
]);
const TIME_OPTIONS = new Set([
  SOCK_OPTION_RECV_TIMEOUT,
  SOCK_OPTION_SEND_TIMEOUT,
  SOCK_OPTION_CONNECT_TIMEOUT,
  SOCK_OPTION_ACCEPT_TIMEOUT,
  SOCK_OPTION_LINGER,
]);
/** Flag options are 0..14 (noop .. oob_inline) except linger and last_error. */
const MAX_FLAG_OPTION = 14;

/** Options for {@link SocketHandle}. */
export interface SocketHandleOptions {
  family: SocketFamily;
  /** The network the socket binds, listens and connects on. Null for socket pairs. */
  net: VirtualNetwork | null;
  /** `SOCK_PROTO_*`. @default {SOCK_PROTO_TCP} */
  proto?: number;
}

/**
 * A stream socket.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "../vnet/mod.ts";
 * const net = new VirtualNetwork();
 * const s = new SocketHandle({ family: "ipv4", net });
 * s.bind({ family: "ipv4", ip: "0.0.0.0", port: 8080 });
 * s.listen(16);
 * ```
 */
export class SocketHandle extends Handle {
  readonly family: SocketFamily;
  readonly proto: number;
  readonly #net: VirtualNetwork | null;
  #state: SocketState = "new";
  #binding: PortBinding | null = null;
  #listener: StreamListener | null = null;
  #stream: VStream | null = null;
  #local: SocketAddress | null = null;
  #flags = new Map<number, boolean>();
  #sizes = new Map<number, bigint>();
  #times = new Map<number, bigint | null>();
  #fdflags = 0;

  constructor(options: SocketHandleOptions) {
    super();
    this.family = options.family;
    this.proto = options.proto ?? SOCK_PROTO_TCP;
    this.#net = options.net;
  }

  /** A socket already connected through `stream` (accepted connections, pairs, real conns). */
  static connected(
    family: SocketFamily,
    stream: VStream,
    net: VirtualNetwork | null,
  ): SocketHandle {
    const s = new SocketHandle({ family, net });
    s.#stream = stream;
    s.#local = stream.localAddress;
    s.#state = "connected";
    return s;
  }

  /** A socket already listening on `listener` (the `--tcplisten` preopen). */
  static listening(family: SocketFamily, listener: StreamListener): SocketHandle {
    const s = new SocketHandle({ family, net: null });
    s.#listener = listener;
    s.#local = listener.address;
    s.#state = "listening";
    return s;
  }

  override get filetype(): number {
    return FILETYPE_SOCKET_STREAM;
  }

  override get maxRights(): number {
    return RIGHTS_SOCKET;
  }

  override get readBlockReason(): "read" | "accept" {
    return this.#state === "listening" ? "accept" : "read";
  }

  /** The socket's state, for diagnostics and snapshots. */
  get state(): SocketState {
    return this.#state;
  }

  /** True when the fd flags include NONBLOCK (kept in sync by `fd_fdstat_set_flags`). */
  get nonblocking(): boolean {
    return (this.#fdflags & FDFLAGS_NONBLOCK) !== 0;
  }

  override setFdflags(flags: number): void {
    this.#fdflags = flags;
  }

  /** The local address, or null before bind/connect. */
  get localAddress(): SocketAddress | null {
    return this.#local;
  }

  /** The peer address, or null when not connected. */
  get peerAddress(): SocketAddress | null {
    return this.#stream?.remoteAddress ?? null;
  }

  /** `SOCK_STATUS_*`. */
  get status(): number {
    if (this.#state === "closed") return SOCK_STATUS_CLOSED;
    if (this.#state === "connected") {
      return this.#stream!.hangup ? SOCK_STATUS_CLOSED : SOCK_STATUS_OPENED;
    }
    return this.#state === "listening" ? SOCK_STATUS_OPENED : SOCK_STATUS_OPENING;
  }

  #requireNet(): VirtualNetwork {
    if (this.#net === null) fail(ERRNO_NOTSUP, "This socket has no network to bind or connect on");
    return this.#net;
  }

  #checkFamily(addr: SocketAddress): void {
    if (this.family === "unix") fail(ERRNO_AFNOSUPPORT, "Unix sockets cannot use IP addresses");
    if (addr.family !== this.family) {
      fail(
        ERRNO_AFNOSUPPORT,
        `An ${addr.family} address does not fit an ${this.family} socket; open the socket with the address's family`,
      );
    }
  }

  /** Binds to `addr` (port 0 picks a free port). */
  bind(addr: SocketAddress): void {
    this.#checkFamily(addr);
    if (this.#state !== "new") fail(ERRNO_INVAL, "The socket is already bound or connected");
    const netw = this.#requireNet();
    this.#binding = net(() => netw.bind(addr));
    this.#local = this.#binding.address;
    this.#state = "bound";
  }

  /** Starts listening; binds an ephemeral port first when unbound, as Linux does. */
  listen(backlog: number): void {
    if (this.#state === "listening") return;
    if (this.#state === "new") {
      const any = this.family === "ipv6" ? "::" : "0.0.0.0";
      this.bind({ family: this.family === "ipv6" ? "ipv6" : "ipv4", ip: any, port: 0 });
    }
    if (this.#state !== "bound") fail(ERRNO_INVAL, "Only a bound, unconnected socket can listen");
    const netw = this.#requireNet();
    this.#listener = net(() => netw.listen(this.#binding!, backlog));
    this.#state = "listening";
  }

  /** Connects to `addr`; completes at once on the virtual network. */
  connect(addr: SocketAddress): void {
    this.#checkFamily(addr);
    if (this.#state === "connected") fail(ERRNO_ISCONN, "The socket is already connected");
    if (this.#state === "listening") fail(ERRNO_INVAL, "A listening socket cannot connect");
    const netw = this.#requireNet();
    const stream = net(() => netw.connectTo(addr, this.#binding ?? undefined));
    this.#binding = null;
    this.#stream = stream;
    this.#local = stream.localAddress;
    this.#state = "connected";
  }

  /** Takes a pending connection, or throws EAGAIN. */
  accept(): SocketHandle {
    if (this.#state !== "listening") {
      fail(ERRNO_INVAL, "The socket is not listening; call listen first");
    }
    const stream = this.#listener!.accept();
    if (stream === null) {
      if (this.#listener!.closed) fail(ERRNO_INVAL, "The listener was shut down by the host");
      fail(ERRNO_AGAIN, "No pending connection");
    }
    return SocketHandle.connected(this.family, stream, this.#net);
  }

  override sockAccept(fdflags: number): Handle {
    const s = this.accept();
    s.setFdflags(fdflags);
    return s;
  }

  #connected(): VStream {
    if (this.#state !== "connected") fail(ERRNO_NOTCONN, "The socket is not connected");
    return this.#stream!;
  }

  /** Receives into `dst`; 0 at end of stream; EAGAIN when nothing is buffered. */
  recv(dst: Uint8Array, riflags = 0): number {
    const s = this.#connected();
    return net(() => s.read(dst, (riflags & RIFLAGS_RECV_PEEK) !== 0));
  }

  /**
   * Sends all of `src`, or throws EAGAIN when the peer's buffer is full. `src` is copied unless
   * `owned` says the caller hands it over (it must not change afterwards).
   */
  send(src: Uint8Array, owned = false): number {
    const s = this.#connected();
    if (src.byteLength === 0) return 0;
    if (!s.writable) fail(ERRNO_AGAIN, "The peer's receive buffer is full");
    return net(() => s.write(owned ? src : src.slice()));
  }

  override read(dst: Uint8Array): number {
    return this.recv(dst);
  }

  override write(src: Uint8Array): number | Promise<number> {
    return this.#sendOrWait(src);
  }

  override sockRecv(dst: Uint8Array, riflags: number): number {
    return this.recv(dst, riflags);
  }

  override sockSend(src: Uint8Array, _siflags: number): number | Promise<number> {
    return this.#sendOrWait(src);
  }

  /** preview1 callers do not wait for writability themselves: a blocking socket waits here. */
  #sendOrWait(src: Uint8Array): number | Promise<number> {
    const s = this.#connected();
    if (s.writable || this.nonblocking || src.byteLength === 0) return this.send(src);
    const copy = src.slice(); // guest memory may change while we wait
    const retry = async (): Promise<number> => {
      while (!s.writable) await s.changed();
      return this.send(copy, true);
    };
    return retry();
  }

  override sockShutdown(how: number): void {
    const s = this.#connected();
    if ((how & (SDFLAGS_RD | SDFLAGS_WR)) === 0 || (how & ~(SDFLAGS_RD | SDFLAGS_WR)) !== 0) {
      fail(ERRNO_INVAL, `Invalid shutdown flags ${how}; use SHUT_RD, SHUT_WR or both`);
    }
    s.shutdown({ read: (how & SDFLAGS_RD) !== 0, write: (how & SDFLAGS_WR) !== 0 });
  }

  // ---- options ----

  /** `sock_get_opt_flag`. */
  getOptFlag(option: number): boolean {
    if (option === SOCK_OPTION_LISTENING) return this.#state === "listening";
    if (
      option > MAX_FLAG_OPTION || option === SOCK_OPTION_LINGER || option === SOCK_OPTION_LAST_ERROR
    ) {
      fail(ERRNO_INVAL, `Socket option ${option} is not a flag`);
    }
    return this.#flags.get(option) ?? false;
  }

  /** `sock_set_opt_flag`. */
  setOptFlag(option: number, value: boolean): void {
    if (
      option > MAX_FLAG_OPTION || option === SOCK_OPTION_LINGER ||
      option === SOCK_OPTION_LAST_ERROR || option === SOCK_OPTION_LISTENING
    ) {
      fail(ERRNO_INVAL, `Socket option ${option} is not a settable flag`);
    }
    if (option !== SOCK_OPTION_NOOP) this.#flags.set(option, value);
  }

  /** `sock_get_opt_size`. */
  getOptSize(option: number): bigint {
    if (option === SOCK_OPTION_TYPE) return BigInt(SOCK_TYPE_STREAM);
    if (option === SOCK_OPTION_PROTO) return BigInt(this.proto);
    if (option === SOCK_OPTION_LAST_ERROR) return 0n;
    if (!SIZE_OPTIONS.has(option)) fail(ERRNO_INVAL, `Socket option ${option} is not a size`);
    const defaults: Record<number, bigint> = {
      [SOCK_OPTION_RECV_BUF_SIZE]: 1n << 20n,
      [SOCK_OPTION_SEND_BUF_SIZE]: 1n << 20n,
      [SOCK_OPTION_TTL]: 64n,
      [SOCK_OPTION_MULTICAST_TTL_V4]: 1n,
    };
    return this.#sizes.get(option) ?? defaults[option] ?? 0n;
  }

  /** `sock_set_opt_size`. */
  setOptSize(option: number, value: bigint): void {
    if (!SIZE_OPTIONS.has(option)) fail(ERRNO_INVAL, `Socket option ${option} is not a size`);
    this.#sizes.set(option, value);
  }

  /** `sock_get_opt_time`: nanoseconds, or null for none. */
  getOptTime(option: number): bigint | null {
    if (!TIME_OPTIONS.has(option)) fail(ERRNO_INVAL, `Socket option ${option} is not a time`);
    return this.#times.get(option) ?? null;
  }

  /** `sock_set_opt_time`. */
  setOptTime(option: number, value: bigint | null): void {
    if (!TIME_OPTIONS.has(option)) fail(ERRNO_INVAL, `Socket option ${option} is not a time`);
    this.#times.set(option, value);
  }

  // ---- readiness ----

  override pollReadable(): boolean {
    switch (this.#state) {
      case "listening":
        return this.#listener!.pending > 0 || this.#listener!.closed;
      case "connected":
        return this.#stream!.readable;
      default:
        return true; // reads fail at once with ENOTCONN
    }
  }

  override pollWritable(): boolean {
    return this.#state === "connected" ? this.#stream!.writable : this.#state !== "listening";
  }

  override bytesReadable(): number {
    if (this.#state === "listening") return this.#listener!.pending;
    return this.#state === "connected" ? this.#stream!.available : 0;
  }

  override hangup(): boolean {
    if (this.#state === "listening") return this.#listener!.closed;
    return this.#state === "connected" && this.#stream!.eof && this.#stream!.hangup;
  }

  /** True when the peer shut down its writing side (EPOLLRDHUP). */
  get peerShutWrite(): boolean {
    return this.#state === "connected" && this.#stream!.eof;
  }

  #changed(): Promise<void> {
    if (this.#state === "listening") return this.#listener!.changed();
    if (this.#state === "connected") return this.#stream!.changed();
    return new Promise(() => {}); // nothing can change an unconnected socket's readiness
  }

  override waitReadable(): Promise<void> {
    return this.pollReadable() ? Promise.resolve() : this.#changed();
  }

  override waitWritable(): Promise<void> {
    return this.pollWritable() ? Promise.resolve() : this.#changed();
  }

  /** Resolves at the next readiness change (for epoll and poll over many handles). */
  changed(): Promise<void> {
    return this.#changed();
  }

  override close(): void {
    this.#stream?.close();
    this.#listener?.close();
    this.#binding?.release();
    this.#state = "closed";
  }

  override describe(): HandleDescription {
    return {
      kind: "socket",
      family: this.family,
      state: this.#state,
      local: this.#local,
      peer: this.peerAddress,
      backlog: this.#listener?.backlog ?? null,
    };
  }
}
