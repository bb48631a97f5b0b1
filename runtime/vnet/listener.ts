/**
 * Listening sockets: a queue of connections waiting for `accept`.
 *
 * @module
 */

import type { SocketAddress } from "./address.ts";
import { VnetError } from "./errors.ts";
import { Notifier } from "./notifier.ts";
import type { VStream } from "./stream.ts";

/**
 * What the WASIX socket layer needs from a listener, virtual ({@link VListener}) or real
 * (`TcpListener` from `listenTcp`).
 */
export interface StreamListener {
  /** The bound address (with the port chosen when 0 was asked for). */
  readonly address: SocketAddress;
  /** Maximum number of connections waiting for accept. */
  readonly backlog: number;
  /** Connections waiting for accept. */
  readonly pending: number;
  /** True after `close()`. */
  readonly closed: boolean;
  /** Takes the next waiting connection; null when none waits. */
  accept(): VStream | null;
  /** Resolves at the next change (a connection arrives, or the listener closes). */
  changed(): Promise<void>;
  /** Stops listening; waiting connections are closed. */
  close(): void;
}

/**
 * A listener on a virtual port. Created by `VirtualNetwork.listen`.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * const net = new VirtualNetwork();
 * const listener = net.listen(net.bind({ family: "ipv4", ip: "0.0.0.0", port: 8080 }), 16);
 * const client = net.connect(8080);
 * const server = listener.accept(); // the server end of `client`
 * ```
 */
export class VListener implements StreamListener {
  readonly address: SocketAddress;
  readonly backlog: number;
  readonly #queue: VStream[] = [];
  readonly #notifier = new Notifier();
  readonly #onClose: () => void;
  #closed = false;

  /** @internal Use `VirtualNetwork.listen`. */
  constructor(address: SocketAddress, backlog: number, onClose: () => void) {
    this.address = address;
    this.backlog = backlog;
    this.#onClose = onClose;
  }

  get pending(): number {
    return this.#queue.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** @internal Queues the server end of a new connection. */
  enqueue(stream: VStream): void {
    if (this.#closed) throw new VnetError("Nothing listens on this port", "ECONNREFUSED");
    if (this.#queue.length >= this.backlog) {
      throw new VnetError(
        `The backlog of ${this.backlog} on port ${this.address.port} is full; accept faster or raise it`,
        "ECONNREFUSED",
      );
    }
    this.#queue.push(stream);
    this.#notifier.notify();
  }

  accept(): VStream | null {
    return this.#queue.shift() ?? null;
  }

  changed(): Promise<void> {
    return this.#notifier.wait();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#queue.splice(0)) s.close();
    this.#notifier.notify();
    this.#onClose();
  }
}
