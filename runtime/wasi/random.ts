/**
 * `random_get`. Bytes drawn count in `proc.randomBytesDrawn` (a boot fact for instaboot: a
 * snapshot taken after the guest seeded itself shares that seed with every restore).
 *
 * @module
 */

import { ERRNO_SUCCESS } from "./defs.ts";
import type { Process } from "./process.ts";

/** The random syscall of `proc`. */
export function randomSyscalls(proc: Process) {
  const mem = proc.mem;
  return {
    random_get(buf: number, len: number): number {
      const dst = mem.bytes(buf, len);
      if (dst.buffer instanceof SharedArrayBuffer) {
        const tmp = new Uint8Array(dst.length);
        proc.random(tmp);
        dst.set(tmp);
      } else {
        proc.random(dst);
      }
      proc.randomBytesDrawn += dst.length;
      return ERRNO_SUCCESS;
    },
  };
}
