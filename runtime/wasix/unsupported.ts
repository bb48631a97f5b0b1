/**
 * WASIX calls Thaw does not implement. Each answers ENOTSUP with a message in the trace, never a
 * trap. The list is the support table in docs/wasix.md.
 *
 * @module
 */

import { ERRNO_NOTSUP, type Process, ProcExit, type SyscallTable } from "../wasi/mod.ts";
import { fail } from "./_errno.ts";

/** Calls answered with ENOTSUP. */
export const UNSUPPORTED_CALLS: readonly string[] = [
  "clock_time_set",
  "thread_spawn",
  "thread_spawn_v2",
  "thread_join",
  "thread_signal",
  "stack_checkpoint",
  "proc_fork",
  "proc_exec2",
  "proc_exec3",
  "proc_spawn",
  "proc_spawn2",
  "proc_join",
  "proc_signal",
  "proc_raise_interval",
  "proc_signals_get",
  "proc_signals_sizes_get",
  "path_open2",
  "port_bridge",
  "port_unbridge",
  "port_dhcp_acquire",
  "port_addr_add",
  "port_addr_remove",
  "port_addr_clear",
  "port_mac",
  "port_addr_list",
  "port_gateway_set",
  "port_route_add",
  "port_route_remove",
  "port_route_clear",
  "port_route_list",
  "dlopen",
  "dlsym",
  "dl_invalid_handle",
  "call_dynamic",
  "ws_connect",
  "http_request",
  "http_status",
];

/** ENOTSUP stubs, plus the no-return calls that must end the process cleanly. */
export function unsupportedSyscalls(_proc: Process): SyscallTable {
  const table: SyscallTable = {};
  for (const name of UNSUPPORTED_CALLS) {
    table[name] = () => fail(ERRNO_NOTSUP, `${name} is not supported by Thaw (see docs/wasix.md)`);
  }
  // No-return calls: a single-threaded process ends with its only thread.
  table.thread_exit = (code: number) => {
    throw new ProcExit(code >>> 0);
  };
  table.proc_exec = () => {
    throw new ProcExit(127); // "command not found": Thaw cannot replace the running program
  };
  table.stack_restore = () => {
    throw new ProcExit(134); // like an abort: setjmp/longjmp through WASIX is not supported
  };
  table.callback_signal = () => 0; // accepted; signals are never raised
  return table;
}
