/**
 * `clock_res_get` and `clock_time_get` for the realtime, monotonic, process-CPU and thread-CPU
 * clocks. Every read counts in `proc.clockReads` (a boot fact for instaboot).
 *
 * @module
 */

import process from "node:process";
import {
  CLOCKID_MONOTONIC,
  CLOCKID_PROCESS_CPUTIME_ID,
  CLOCKID_REALTIME,
  CLOCKID_THREAD_CPUTIME_ID,
  ERRNO_INVAL,
  ERRNO_SUCCESS,
} from "./defs.ts";
import { WasiError } from "./errors.ts";
import type { Process } from "./process.ts";

/** CPU time of the host process in ns (Deno runs the guest on one thread, so thread = process). */
function cpuTimeNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/**
 * The current time of clock `id` in ns.
 *
 * @throws {WasiError} EINVAL for unknown clocks.
 */
export function clockNow(proc: Process, id: number): number {
  switch (id) {
    case CLOCKID_REALTIME:
      return proc.clock.realtime();
    case CLOCKID_MONOTONIC:
      return proc.clock.monotonic();
    case CLOCKID_PROCESS_CPUTIME_ID:
    case CLOCKID_THREAD_CPUTIME_ID:
      return cpuTimeNs();
    default:
      throw new WasiError(`Unknown clock id ${id}`, ERRNO_INVAL);
  }
}

/** The clock syscalls of `proc`. */
export function clockSyscalls(proc: Process) {
  const mem = proc.mem;
  return {
    clock_res_get(id: number, resPtr: number): number {
      if (id < 0 || id > CLOCKID_THREAD_CPUTIME_ID) {
        throw new WasiError(`Unknown clock id ${id}`, ERRNO_INVAL);
      }
      // performance.now() has microsecond resolution; CPU time comes in microseconds.
      mem.setU64n(resPtr, 1000);
      return ERRNO_SUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, timePtr: number): number {
      proc.clockReads++;
      let t: number;
      if (id === CLOCKID_MONOTONIC) t = proc.clock.monotonic();
      else if (id === CLOCKID_REALTIME) t = proc.clock.realtime();
      else t = clockNow(proc, id);
      mem.setU64n(timePtr, t);
      return ERRNO_SUCCESS;
    },
  };
}
