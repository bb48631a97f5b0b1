/**
 * `tty_get`, `tty_set`: the process's terminal settings, kept as plain data.
 *
 * @module
 */

import type { Process, SyscallTable } from "../wasi/mod.ts";
import { wasixState } from "./_state.ts";
import { readTty, TTY_SIZE, writeTty } from "./defs.ts";

/** The tty family. */
export function ttySyscalls(proc: Process): SyscallTable {
  return {
    tty_get(ptr: number) {
      const view = proc.mem.view(ptr, TTY_SIZE);
      writeTty(view, ptr >>> 0, wasixState(proc).tty);
      return 0;
    },
    tty_set(ptr: number) {
      const view = proc.mem.view(ptr, TTY_SIZE);
      wasixState(proc).tty = readTty(view, ptr >>> 0);
      return 0;
    },
  };
}
