/**
 * `clock_res_get` and `clock_time_get` for the realtime, monotonic, process-CPU and thread-CPU
 * clocks. Every read counts in `proc.clockReads` (a boot fact for instaboot).
 *
 * @module
 */

import {
  CLOCKID_MONOTONIC,
  CLOCKID_PROCESS_CPUTIME_ID,
  CLOCKID_REALTIME,
  CLOCKID_THREAD_CPUTIME_ID,
  ERRNO_INVAL,
  ERRNO_NOTSUP,
  ERRNO_SUCCESS,
} from "./defs.ts";
import { WasiError } from "./errors.ts";
import type { Process } from "./process.ts";

/**
 * `Deno.cpuUsage()` (microseconds), which Deno 2.9 has at run time but not yet in its type
 * definitions. Read through this instead of `node:process`, whose import costs every instance
 * Worker about 15 ms at start.
 */
const runtime = Deno as unknown as { cpuUsage?: () => { user: number; system: number } };

/** CPU time of the host process in ns (Deno runs the guest on one thread, so thread = process). */
function cpuTimeNs(): number {
  if (typeof runtime.cpuUsage !== "function") {
    throw new WasiError("CPU-time clocks need Deno.cpuUsage (Deno 2.4 or newer)", ERRNO_NOTSUP);
  }
  const u = runtime.cpuUsage();
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
