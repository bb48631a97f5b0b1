/**
 * `proc_exit`, `proc_raise` and `sched_yield`.
 *
 * @module
 */

import { ERRNO_NOTSUP, ERRNO_SUCCESS } from "./defs.ts";
import { ProcExit, WasiError } from "./errors.ts";
import type { Process } from "./process.ts";

/** The process syscalls of `proc`. */
export function procSyscalls(proc: Process) {
  return {
    proc_exit(code: number): number {
      proc.exitCode = code >>> 0;
      throw new ProcExit(code >>> 0);
    },
    proc_raise(sig: number): number {
      // Like wasmtime: there are no signal handlers in preview1.
      throw new WasiError(`proc_raise(${sig}) is not supported`, ERRNO_NOTSUP);
    },
    sched_yield(): number {
      return ERRNO_SUCCESS;
    },
  };
}
