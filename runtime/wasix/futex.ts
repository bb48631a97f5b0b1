/**
 * `futex_wait`, `futex_wake`, `futex_wake_all` with single-thread semantics: no other thread can
 * change the word or wake a waiter, so a wait whose value matches ends only by its timeout, and a
 * wait without a timeout would hang forever, which is answered with EDEADLK instead.
 *
 * @module
 */

import {
  ERRNO_DEADLK,
  ERRNO_INVAL,
  type Process,
  type SyscallResult,
  type SyscallTable,
} from "../wasi/mod.ts";
import { sleep } from "./_blocking.ts";
import { fail } from "./_errno.ts";
import { OPTION_TIMESTAMP_SIZE, readOptionTimestamp } from "./defs.ts";

/** Imports of this family that may suspend the guest. */
export const FUTEX_BLOCKING = ["futex_wait"];

/** The futex family. */
export function futexSyscalls(proc: Process): SyscallTable {
  const check = (ptr: number) => {
    if ((ptr & 3) !== 0) fail(ERRNO_INVAL, "A futex must be 4-byte aligned");
    return proc.mem.getU32(ptr);
  };
  return {
    futex_wait(ptr: number, expected: number, timeoutPtr: number, roWoken: number): SyscallResult {
      const value = check(ptr);
      proc.mem.view(roWoken, 1);
      // As in Wasmer: a value that already changed counts as a wake-up.
      if (value !== expected >>> 0) {
        proc.mem.setU8(roWoken, 1);
        return 0;
      }
      const timeout = timeoutPtr === 0 ? null : readOptionTimestamp(
        proc.mem.view(timeoutPtr, OPTION_TIMESTAMP_SIZE),
        timeoutPtr >>> 0,
      );
      if (timeout === null) {
        fail(
          ERRNO_DEADLK,
          "futex_wait without a timeout in a single-threaded process would never wake",
        );
      }
      proc.mem.setU8(roWoken, 0);
      const ms = Number(timeout) / 1e6;
      return proc.block({ syscall: "futex_wait", reason: "futex" }, () => sleep(ms), () => {
        proc.mem.setU8(roWoken, 0);
        return 0;
      });
    },
    futex_wake(ptr: number, roWoken: number) {
      check(ptr);
      proc.mem.setU8(roWoken, 0);
      return 0;
    },
    futex_wake_all(ptr: number, roWoken: number) {
      check(ptr);
      proc.mem.setU8(roWoken, 0);
      return 0;
    },
  };
}
