/**
 * runtime/wasix: the `wasix_32v1` import module (sockets, pipes, dup, event fds, epoll, futex,
 * tty, cwd, process ids, explicit snapshots) on top of runtime/wasi's {@link Process}, with
 * sockets on runtime/vnet's {@link VirtualNetwork}.
 *
 * The handles (`SocketHandle`, `PipeHandle`, `EventHandle`, `EpollHandle`) implement the
 * readiness protocol of runtime/wasi's `Handle`, so preview1's `poll_oneoff`, `fd_read`,
 * `fd_write` and `sock_*` work on them too. Calls that would block return a Promise (JSPI); they
 * are listed in {@link WASIX_BLOCKING_IMPORTS}. See docs/wasix.md for the support table.
 *
 * @example
 * ```ts
 * import { importObject, Process } from "../wasi/mod.ts";
 * import { VirtualNetwork } from "../vnet/mod.ts";
 * import { WASIX_MODULE, wasixImports } from "./mod.ts";
 *
 * const net = new VirtualNetwork();
 * const proc = new Process({ args: ["server"] });
 * const imports = importObject(proc, { [WASIX_MODULE]: wasixImports(proc, { net }) });
 * const instance = await WebAssembly.instantiate(module, imports);
 * proc.start(instance); // runs until the server exits
 * const { address } = await net.firstListen();
 * const conn = net.connect(address.port); // a VStream to the guest's listener
 * ```
 * @module
 */

import {
  BLOCKING_IMPORTS,
  buildImports,
  type Process,
  type TraceFn,
  wasiSyscalls,
} from "../wasi/mod.ts";
import type { VirtualNetwork } from "../vnet/mod.ts";
import { wasixState } from "./_state.ts";
import { EPOLL_BLOCKING } from "./epoll.ts";
import { FUTEX_BLOCKING } from "./futex.ts";
import { PROC_BLOCKING } from "./proc.ts";
import { SOCK_BLOCKING } from "./sock.ts";
import { THREAD_BLOCKING } from "./thread.ts";
import { wasixSyscalls } from "./syscalls.ts";

export * from "./defs.ts";
export { EpollHandle } from "./epoll.ts";
export { EventHandle } from "./event.ts";
export { PipeHandle } from "./pipe.ts";
export {
  type SocketFamily,
  SocketHandle,
  type SocketHandleOptions,
  type SocketState,
} from "./socket_handle.ts";
export { type PreopenedListener, preopenTcpListener } from "./tcp_listen.ts";
export { UNSUPPORTED_CALLS } from "./unsupported.ts";
export { checkWasixImports, type ImportProblem } from "./check_imports.ts";
export { DEFAULT_TTY, WasixState, wasixState } from "./_state.ts";
export { resolvePath } from "./proc.ts";
export { wasixSyscalls } from "./syscalls.ts";

/** The WASIX import module name (32-bit memories). */
export const WASIX_MODULE = "wasix_32v1";

/**
 * Imports of `wasix_32v1` that may suspend the guest (JSPI): the WASIX ones plus preview1's, since
 * the module carries every preview1 call too.
 */
export const WASIX_BLOCKING_IMPORTS: ReadonlySet<string> = new Set([
  ...BLOCKING_IMPORTS,
  ...SOCK_BLOCKING,
  ...EPOLL_BLOCKING,
  ...THREAD_BLOCKING,
  ...FUTEX_BLOCKING,
  ...PROC_BLOCKING,
]);

/** Options of {@link wasixImports}. */
export interface WasixImportsOptions {
  /** The network the guest's sockets use. @default a new VirtualNetwork per process */
  net?: VirtualNetwork;
  /** The process id `proc_id` reports. @default 1 */
  pid?: number;
  /** Trace every call. */
  trace?: TraceFn;
}

/**
 * The `wasix_32v1` import namespace for `proc`: every preview1 call (as Wasmer's namespace has
 * them) overlaid with the WASIX calls, each wrapped so that errors become errnos, the blocking
 * ones in `WebAssembly.Suspending` when `proc.jspi` is on.
 *
 * Pass the same `net` to every process of an app (and to the host) so they share ports.
 */
export function wasixImports(
  proc: Process,
  options: WasixImportsOptions = {},
): WebAssembly.ModuleImports {
  wasixState(proc, { net: options.net, pid: options.pid });
  const table = { ...wasiSyscalls(proc), ...wasixSyscalls(proc) };
  return buildImports(table, WASIX_BLOCKING_IMPORTS, { jspi: proc.jspi, trace: options.trace });
}

/** The network `proc`'s sockets use (created on first use when `wasixImports` got none). */
export function processNetwork(proc: Process): VirtualNetwork {
  return wasixState(proc).net;
}
