/**
 * Thread calls for a single-threaded process: `thread_sleep`, `thread_id`,
 * `thread_parallelism`, `sched_yield`. Sleeping and yielding suspend the guest (JSPI) so Deno's
 * event loop keeps running.
 *
 * @module
 */

import type { Process, SyscallResult, SyscallTable } from "../wasi/mod.ts";
import { sleep } from "./_blocking.ts";
import { wasixState } from "./_state.ts";

/** Imports of this family that may suspend the guest. */
export const THREAD_BLOCKING = ["thread_sleep", "sched_yield"];

/** The thread family. */
export function threadSyscalls(proc: Process): SyscallTable {
  return {
    thread_sleep(duration: bigint): SyscallResult {
      const ms = Number(BigInt.asUintN(64, BigInt(duration))) / 1e6;
      return proc.block({ syscall: "thread_sleep", reason: "sleep" }, () => sleep(ms), () => 0);
    },
    // The main thread's id equals the process id (wasix_v1.witx).
    thread_id(roTid: number) {
      proc.mem.setU32(roTid, wasixState(proc).pid);
      return 0;
    },
    thread_parallelism(roN: number) {
      proc.mem.setU32(roN, 1);
      return 0;
    },
    sched_yield(): SyscallResult {
      return proc.block({ syscall: "sched_yield", reason: "sleep" }, () => sleep(0), () => 0);
    },
  };
}
