/**
 * A REAL listening TCP socket (Deno.listen), adapted to the {@link StreamListener} interface so
 * that the WASIX socket layer serves it like a virtual one. Used by `thaw run --tcplisten`.
 *
 * Each accepted `Deno.TcpConn` is bridged to a virtual stream pair: one pump copies socket reads
 * into the pair, another writes what the guest sends back to the socket.
 *
 * @module
 */

import { canonicalIp, ipFamily, type SocketAddress } from "./address.ts";
import { VnetError } from "./errors.ts";
import type { StreamListener } from "./listener.ts";
import { Notifier } from "./notifier.ts";
import { createStreamPair, type VStream } from "./stream.ts";

/** Options for {@link listenTcp}. */
export interface ListenTcpOptions {
  /** Maximum accepted-but-not-yet-taken connections. @default {128} */
  backlog?: number;
}

/**
 * Parses `HOST:PORT` (IPv6 as `[::1]:8080`) as used by `--tcplisten`.
 *
 * @example
 * ```ts
 * parseHostPort("127.0.0.1:8080"); // { hostname: "127.0.0.1", port: 8080 }
 * ```
 * @throws {VnetError} EINVAL for a malformed value.
 */
export function parseHostPort(value: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new VnetError(
      `Invalid --tcplisten value "${value}"; expected HOST:PORT such as 127.0.0.1:8080`,
      "EINVAL",
    );
  }
  return { hostname: m[1] ?? m[2], port };
}

function toAddress(addr: Deno.Addr): SocketAddress {
  const net = addr as Deno.NetAddr;
  const ip = canonicalIp(net.hostname);
  return { family: ipFamily(ip) ?? "ipv4", ip, port: net.port };
}

/**
 * A real TCP listener. Connections are accepted in the background as they arrive, up to
 * `backlog` waiting; the guest takes them with `accept()`.
 */
export class TcpListener implements StreamListener {
  readonly address: SocketAddress;
  readonly backlog: number;
  readonly #listener: Deno.TcpListener;
  readonly #queue: VStream[] = [];
  readonly #notifier = new Notifier();
  readonly #space = new Notifier();
  readonly #conns = new Set<Deno.TcpConn>();
  #closed = false;

  /** @internal Use {@link listenTcp}. */
  constructor(listener: Deno.TcpListener, backlog: number) {
    this.#listener = listener;
    this.address = toAddress(listener.addr);
    this.backlog = backlog;
    this.#acceptLoop();
  }

  get pending(): number {
    return this.#queue.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  accept(): VStream | null {
    const s = this.#queue.shift() ?? null;
    if (s !== null) this.#space.notify();
    return s;
  }

  changed(): Promise<void> {
    return this.#notifier.wait();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const s of this.#queue.splice(0)) s.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    this.#notifier.notify();
    this.#space.notify();
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      while (this.#queue.length >= this.backlog && !this.#closed) await this.#space.wait();
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        if (this.#closed) return;
        continue;
      }
      conn.setNoDelay(true);
      this.#conns.add(conn);
      const [guestEnd, bridgeEnd] = createStreamPair(
        toAddress(conn.localAddr),
        toAddress(conn.remoteAddr),
        { onClosed: () => this.#conns.delete(conn) },
      );
      this.#bridge(conn, bridgeEnd);
      this.#queue.push(guestEnd);
      this.#notifier.notify();
    }
  }

  #bridge(conn: Deno.TcpConn, end: VStream): void {
    let pending = 2;
    const done = () => {
      if (--pending === 0) {
        end.close();
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    };
    // socket -> guest
    (async () => {
      try {
        while (true) {
          while (!end.writable) await end.changed();
          const buf = new Uint8Array(64 * 1024);
          const n = await conn.read(buf);
          if (n === null) break;
          end.write(buf.subarray(0, n));
        }
      } catch { /* reset or guest closed */ }
      try {
        end.shutdown({ write: true });
      } catch { /* closed */ }
      done();
    })();
    // guest -> socket
    (async () => {
      try {
        while (true) {
          const chunk = await end.readAsync();
          if (chunk === null) break;
          let off = 0;
          while (off < chunk.byteLength) off += await conn.write(chunk.subarray(off));
        }
        await conn.closeWrite();
      } catch { /* peer reset */ }
      done();
    })();
  }
}

/**
 * Opens a real listening TCP socket on `hostname:port`.
 *
 * @example
 * ```ts
 * import { listenTcp, parseHostPort } from "./tcp.ts";
 * const listener = listenTcp(parseHostPort("127.0.0.1:8080"));
 * console.log(listener.address.port); // 8080
 * listener.close();
 * ```
 * @throws {VnetError} EADDRINUSE when the port is taken; EACCES-style errors surface as EINVAL.
 */
export function listenTcp(
  where: { hostname: string; port: number },
  options: ListenTcpOptions = {},
): TcpListener {
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: where.hostname, port: where.port, transport: "tcp" });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new VnetError(
        `Cannot listen on ${where.hostname}:${where.port}: the port is in use; pick another`,
        "EADDRINUSE",
      );
    }
    throw new VnetError(
      `Cannot listen on ${where.hostname}:${where.port}: ${(err as Error).message}`,
      err instanceof Deno.errors.AddrNotAvailable ? "EADDRNOTAVAIL" : "EINVAL",
    );
  }
  return new TcpListener(listener, options.backlog ?? 128);
}
