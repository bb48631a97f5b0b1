/**
 * `thaw run --tcplisten HOST:PORT`: a REAL listening TCP socket (Deno.listen), wrapped as a
 * {@link SocketHandle} and pre-opened in the guest's fd table, so that a preview1 server calling
 * `accept(3)` (with `LISTEN_FDS=1` in its environment) serves real clients.
 *
 * @module
 */

import { type Process, RIGHTS_SOCKET } from "../wasi/mod.ts";
import { listenTcp, parseHostPort, type SocketAddress, type TcpListener } from "../vnet/mod.ts";
import { SocketHandle } from "./socket_handle.ts";

/** What {@link preopenTcpListener} opened. */
export interface PreopenedListener {
  /** The fd the guest sees: 3 when no directory is preopened, else the first fd after them. */
  readonly fd: number;
  /** The bound address (the real port when 0 was asked for). */
  readonly address: SocketAddress;
  /** The real listener; closing the guest's last fd closes it too. */
  readonly listener: TcpListener;
}

/**
 * Opens a real listening socket on `hostPort` (`"127.0.0.1:8080"`, `"[::1]:8080"`) and installs
 * it at the next free fd of `proc`. Call it after the preopened directories exist: wasi-libc stops
 * scanning preopens at the first fd that is not a directory, so the socket must come after them.
 * Pass `LISTEN_FDS=1` in the process's environment.
 *
 * @example
 * ```ts
 * import { Process } from "../wasi/mod.ts";
 * const proc = new Process({ env: { LISTEN_FDS: "1" } });
 * const { fd, address } = preopenTcpListener(proc, "127.0.0.1:8080");
 * console.log(fd, address.port); // 3 8080
 * ```
 * @throws {VnetError} EINVAL for a malformed HOST:PORT, EADDRINUSE when the port is taken.
 */
export function preopenTcpListener(
  proc: Process,
  hostPort: string,
  options: { backlog?: number } = {},
): PreopenedListener {
  const listener = listenTcp(parseHostPort(hostPort), { backlog: options.backlog });
  const handle = SocketHandle.listening(listener.address.family, listener);
  const fd = proc.fds.insert({
    handle,
    rightsBase: RIGHTS_SOCKET,
    rightsInheriting: RIGHTS_SOCKET,
    fdflags: 0,
  });
  return { fd, address: listener.address, listener };
}
