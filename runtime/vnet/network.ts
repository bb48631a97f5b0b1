/**
 * The virtual network of one app process: ports, listeners, connections, name resolution.
 *
 * @module
 */

import {
  canonicalIp,
  type IpFamily,
  ipFamily,
  isLoopback,
  isUnspecified,
  type SocketAddress,
} from "./address.ts";
import { VnetError } from "./errors.ts";
import { VListener } from "./listener.ts";
import { createStreamPair, type StreamPairOptions, VStream } from "./stream.ts";

/** A listening socket as plain data, for journaling and for the host. */
export interface ListenerInfo {
  readonly address: SocketAddress;
  readonly backlog: number;
}

/** Options for {@link VirtualNetwork}. */
export interface VirtualNetworkOptions {
  /** Names that resolve to loopback besides `localhost` (e.g. the app's own name). */
  hostnames?: readonly string[];
  /** First and last port handed out for port 0 binds and outgoing connections. @default {[49152, 65535]} */
  ephemeralPorts?: readonly [number, number];
  /** Soft per-direction buffer limit of new connections, in bytes. */
  bufferLimit?: number;
}

/**
 * A bound, not yet listening, port. Holding it keeps the port in use; `release()` frees it.
 */
export class PortBinding {
  readonly address: SocketAddress;
  readonly #release: () => void;
  #released = false;

  /** @internal Use `VirtualNetwork.bind`. */
  constructor(address: SocketAddress, release: () => void) {
    this.address = address;
    this.#release = release;
  }

  /** True after `release()`. */
  get released(): boolean {
    return this.#released;
  }

  /** Frees the port unless a listener took it over. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#release();
  }
}

/** Options for {@link VirtualNetwork.connect}. */
export interface ConnectOptions {
  /** Family of the address to reach the listener on. @default {"ipv4"} */
  family?: IpFamily;
  /** Address the guest sees as its peer. @default {an ephemeral loopback port} */
  remoteAddress?: SocketAddress;
}

/**
 * A network inside the process: guests bind and listen on virtual ports, the host and other
 * guests connect to them. Nothing touches a real socket. Only loopback and unspecified addresses
 * exist; connecting anywhere else fails with ENETUNREACH.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * const net = new VirtualNetwork();
 * net.onListen((info) => console.log("guest listens on", info.address.port));
 * // ... the guest binds and listens on 8080 ...
 * const conn = net.connect(8080);
 * conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
 * const response = await conn.readAsync();
 * ```
 */
export class VirtualNetwork {
  readonly #ports = new Map<number, string>(); // port -> owner kind, for error messages
  readonly #listeners = new Map<number, VListener>();
  readonly #listenCallbacks = new Set<(info: ListenerInfo) => void>();
  readonly #firstListen: Promise<ListenerInfo>;
  #resolveFirstListen!: (info: ListenerInfo) => void;
  readonly #hostnames: Set<string>;
  readonly #ephemeral: readonly [number, number];
  #nextEphemeral: number;
  readonly #bufferLimit: number | undefined;

  constructor(options: VirtualNetworkOptions = {}) {
    this.#hostnames = new Set(
      ["localhost", ...(options.hostnames ?? [])].map((h) => h.toLowerCase()),
    );
    this.#ephemeral = options.ephemeralPorts ?? [49152, 65535];
    this.#nextEphemeral = this.#ephemeral[0];
    this.#bufferLimit = options.bufferLimit;
    this.#firstListen = new Promise((resolve) => {
      this.#resolveFirstListen = resolve;
    });
  }

  /**
   * Reserves `address` (port 0 picks a free ephemeral port).
   *
   * @throws {VnetError} EADDRINUSE when the port is taken; EADDRNOTAVAIL for an address that is
   * not loopback or unspecified; EINVAL for a bad port.
   */
  bind(address: SocketAddress): PortBinding {
    const ip = canonicalIp(address.ip);
    if (!isLoopback(ip) && !isUnspecified(ip)) {
      throw new VnetError(
        `Cannot bind ${ip}: the virtual network has only loopback and unspecified addresses; bind 0.0.0.0 or 127.0.0.1`,
        "EADDRNOTAVAIL",
      );
    }
    if (!Number.isInteger(address.port) || address.port < 0 || address.port > 65535) {
      throw new VnetError(`Port ${address.port} is out of range 0..65535`, "EINVAL");
    }
    const port = address.port === 0 ? this.#allocatePort() : address.port;
    if (this.#ports.has(port)) {
      throw new VnetError(`Port ${port} is already in use; pick another port`, "EADDRINUSE");
    }
    this.#ports.set(port, "bound");
    const bound: SocketAddress = { family: address.family, ip, port };
    return new PortBinding(bound, () => {
      if (!this.#listeners.has(port)) this.#ports.delete(port);
    });
  }

  /**
   * Starts listening on a bound port and announces it to `onListen` subscribers.
   *
   * @throws {VnetError} EINVAL when the binding was released or already listens.
   */
  listen(binding: PortBinding, backlog = 128): VListener {
    const port = binding.address.port;
    if (binding.released || this.#ports.get(port) !== "bound") {
      throw new VnetError(`Port ${port} is not bound by this socket; bind it first`, "EINVAL");
    }
    const effective = Math.max(1, Math.min(backlog > 0 ? backlog : 128, 4096));
    const listener = new VListener(binding.address, effective, () => {
      if (this.#listeners.get(port) === listener) {
        this.#listeners.delete(port);
        this.#ports.delete(port);
      }
    });
    this.#listeners.set(port, listener);
    this.#ports.set(port, "listening");
    const info: ListenerInfo = { address: binding.address, backlog: effective };
    this.#resolveFirstListen(info);
    for (const cb of this.#listenCallbacks) cb(info);
    return listener;
  }

  /**
   * Opens a host-side connection to the guest listening on `port`. The returned stream's writes
   * reach the guest's accepted socket and its reads return what the guest sends.
   *
   * @throws {VnetError} ECONNREFUSED when nothing listens on `port` or its backlog is full.
   */
  connect(port: number, options: ConnectOptions = {}): VStream {
    const family = options.family ?? "ipv4";
    const ip = family === "ipv4" ? "127.0.0.1" : "::1";
    return this.#open({ family, ip, port }, options.remoteAddress);
  }

  /**
   * Connects a guest socket to `address` (guest-to-guest loopback). Returns the client end.
   *
   * @throws {VnetError} ENETUNREACH for a non-loopback address; ECONNREFUSED when nothing listens.
   */
  connectTo(address: SocketAddress, from?: PortBinding): VStream {
    const ip = canonicalIp(address.ip);
    if (!isLoopback(ip) && !isUnspecified(ip)) {
      throw new VnetError(
        `Cannot reach ${ip}: the app has no outside network, only loopback`,
        "ENETUNREACH",
      );
    }
    return this.#open({ family: address.family, ip, port: address.port }, from?.address, from);
  }

  #open(target: SocketAddress, clientAddress?: SocketAddress, from?: PortBinding): VStream {
    const listener = this.#listeners.get(target.port);
    if (listener === undefined || listener.closed) {
      throw new VnetError(`Nothing listens on port ${target.port}`, "ECONNREFUSED");
    }
    let ownPort: number | null = null;
    let client = clientAddress;
    if (client === undefined) {
      ownPort = this.#allocatePort();
      this.#ports.set(ownPort, "connection");
      client = { family: target.family, ip: target.ip, port: ownPort };
    }
    const options: StreamPairOptions = {
      bufferLimit: this.#bufferLimit,
      onClosed: () => {
        if (ownPort !== null) this.#ports.delete(ownPort);
        from?.release();
      },
    };
    const serverAddress: SocketAddress = {
      ...listener.address,
      family: target.family,
      ip: target.ip,
    };
    const [clientEnd, serverEnd] = createStreamPair(client, serverAddress, options);
    try {
      listener.enqueue(serverEnd);
    } catch (err) {
      clientEnd.close();
      serverEnd.close();
      throw err;
    }
    return clientEnd;
  }

  /**
   * Resolves a host name to the addresses it has here: `localhost` and the configured
   * hostnames map to loopback; numeric addresses map to themselves. Others resolve to nothing.
   *
   * @example
   * ```ts
   * new VirtualNetwork().resolve("localhost"); // ["127.0.0.1", "::1"]
   * ```
   */
  resolve(name: string): string[] {
    const family = ipFamily(name);
    if (family !== null) return [canonicalIp(name)];
    const lower = name.toLowerCase().replace(/\.$/, "");
    if (this.#hostnames.has(lower) || lower.endsWith(".localhost")) return ["127.0.0.1", "::1"];
    return [];
  }

  /** The listening sockets, as plain data sorted by port. */
  listeners(): ListenerInfo[] {
    return [...this.#listeners.values()]
      .map((l) => ({ address: l.address, backlog: l.backlog }))
      .sort((a, b) => a.address.port - b.address.port);
  }

  /** Calls `callback` each time a guest starts listening. Returns an unsubscribe function. */
  onListen(callback: (info: ListenerInfo) => void): () => void {
    this.#listenCallbacks.add(callback);
    return () => this.#listenCallbacks.delete(callback);
  }

  /** Resolves when the first guest listener opens (at once if one already did). */
  firstListen(): Promise<ListenerInfo> {
    return this.#firstListen;
  }

  #allocatePort(): number {
    const [lo, hi] = this.#ephemeral;
    for (let i = 0; i <= hi - lo; i++) {
      const port = this.#nextEphemeral;
      this.#nextEphemeral = port >= hi ? lo : port + 1;
      if (!this.#ports.has(port)) return port;
    }
    throw new VnetError("No free ephemeral port; close some connections", "EADDRINUSE");
  }
}
