/**
 * runtime/vnet: the virtual network of an app process.
 *
 * Guests (through runtime/wasix sockets) bind and listen on virtual ports of a
 * {@link VirtualNetwork}; the HTTP host reaches them with `net.connect(port)`, which returns a
 * {@link VStream} duplex: write request bytes, read response chunks. Chunks move by reference,
 * so the host side never copies. Guests can also connect to each other over loopback. Nothing
 * touches the real network, except {@link listenTcp}, the explicit real listener behind
 * `thaw run --tcplisten`.
 *
 * `net.onListen(cb)` and `net.firstListen()` announce the app's listening port (the host's HTTP
 * port and the snapshot engine's first-listen trigger); `net.listeners()` lists the listening
 * sockets as plain data for journaling.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./mod.ts";
 * const net = new VirtualNetwork({ hostnames: ["myapp"] });
 * const { address } = await net.firstListen();
 * const conn = net.connect(address.port);
 * await conn.writeAsync(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * for await (const chunk of conn.readableStream()) console.log(chunk.byteLength);
 * ```
 * @module
 */

export {
  bytesToIp,
  canonicalIp,
  formatAddress,
  type IpFamily,
  ipFamily,
  ipToBytes,
  isLoopback,
  isUnspecified,
  type SocketAddress,
} from "./address.ts";
export { ByteQueue } from "./byte_queue.ts";
export { VnetError, type VnetErrorCode } from "./errors.ts";
export { type StreamListener, VListener } from "./listener.ts";
export {
  type ConnectOptions,
  type ListenerInfo,
  PortBinding,
  VirtualNetwork,
  type VirtualNetworkOptions,
} from "./network.ts";
export { Notifier } from "./notifier.ts";
export {
  createStreamPair,
  DEFAULT_BUFFER_LIMIT,
  type StreamPairOptions,
  VStream,
} from "./stream.ts";
export { listenTcp, type ListenTcpOptions, parseHostPort, TcpListener } from "./tcp.ts";
