/**
 * `args_get`, `args_sizes_get`, `environ_get`, `environ_sizes_get`.
 *
 * @module
 */

import { ERRNO_SUCCESS } from "./defs.ts";
import type { GuestMemory } from "./memory.ts";
import type { PackedStrings, Process } from "./process.ts";

function get(mem: GuestMemory, s: PackedStrings, ptrs: number, buf: number): number {
  mem.view(ptrs, s.count * 4);
  mem.write(buf, s.bytes);
  for (let i = 0; i < s.count; i++) mem.setU32(ptrs + i * 4, (buf >>> 0) + s.offsets[i]);
  return ERRNO_SUCCESS;
}

function sizes(mem: GuestMemory, s: PackedStrings, countPtr: number, sizePtr: number): number {
  mem.setU32(countPtr, s.count);
  mem.setU32(sizePtr, s.bytes.length);
  return ERRNO_SUCCESS;
}

/** The args and environ syscalls of `proc`. */
export function argsSyscalls(proc: Process) {
  const mem = proc.mem;
  return {
    args_get: (argv: number, argvBuf: number): number => get(mem, proc.packedArgs, argv, argvBuf),
    args_sizes_get: (argc: number, size: number): number => sizes(mem, proc.packedArgs, argc, size),
    environ_get: (env: number, envBuf: number): number => get(mem, proc.packedEnv, env, envBuf),
    environ_sizes_get: (n: number, size: number): number => sizes(mem, proc.packedEnv, n, size),
  };
}
