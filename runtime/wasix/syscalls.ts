/**
 * {@link wasixSyscalls}: every WASIX family's table merged, unwrapped.
 *
 * @module
 */

import type { Process, SyscallTable } from "../wasi/mod.ts";
import { epollSyscalls } from "./epoll.ts";
import { eventSyscalls } from "./event.ts";
import { fdSyscalls } from "./fd.ts";
import { futexSyscalls } from "./futex.ts";
import { pipeSyscalls } from "./pipe.ts";
import { procSyscalls } from "./proc.ts";
import { sockSyscalls } from "./sock.ts";
import { threadSyscalls } from "./thread.ts";
import { ttySyscalls } from "./tty.ts";
import { unsupportedSyscalls } from "./unsupported.ts";

/** The WASIX-only syscalls of `proc`, unwrapped (for composition and tests). */
export function wasixSyscalls(proc: Process): SyscallTable {
  return {
    ...unsupportedSyscalls(proc),
    ...sockSyscalls(proc),
    ...pipeSyscalls(proc),
    ...eventSyscalls(proc),
    ...fdSyscalls(proc),
    ...epollSyscalls(proc),
    ...procSyscalls(proc),
    ...ttySyscalls(proc),
    ...threadSyscalls(proc),
    ...futexSyscalls(proc),
  };
}
