/**
 * The retry loop of WASIX syscalls that may wait: try the operation; when it answers EAGAIN on a
 * blocking fd, ask the snapshot hook (through `proc.block`), wait for the handle's readiness (or a
 * timeout) and try again.
 *
 * @module
 */

import {
  type BlockPoint,
  ERRNO_AGAIN,
  type Process,
  type SyscallResult,
  WasiError,
} from "../wasi/mod.ts";

/** What a blocking call waits for between attempts. */
export interface BlockingOptions {
  /** Answer EAGAIN instead of waiting (O_NONBLOCK). */
  nonblock: boolean;
  /** Resolves when the operation may succeed now. */
  wait: () => Promise<unknown>;
  /** Give up with EAGAIN after this many nanoseconds (SO_RCVTIMEO and friends); null: never. */
  timeoutNs?: bigint | null;
  /**
   * False when the operation would surely answer EAGAIN now. Checked before each attempt, so
   * that the common "nothing yet" of a non-blocking socket costs no thrown error.
   */
  ready?: () => boolean;
}

/** Resolves after `ms` milliseconds, unless `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const id = setTimeout(resolve, Math.max(0, ms));
    signal?.addEventListener("abort", () => {
      clearTimeout(id);
      resolve();
    }, { once: true });
  });
}

/**
 * Runs `attempt` until it stops throwing EAGAIN, waiting in between. `attempt` returns the errno
 * (normally 0) and writes its results itself, re-reading guest memory each time.
 */
export function blocking(
  proc: Process,
  point: BlockPoint,
  options: BlockingOptions,
  attempt: () => number,
): SyscallResult {
  const deadline = options.timeoutNs == null
    ? null
    : performance.now() + Number(options.timeoutNs) / 1e6;
  const run = (): SyscallResult => {
    if (options.ready === undefined || options.ready()) {
      try {
        return attempt();
      } catch (err) {
        if (!(err instanceof WasiError) || err.errno !== ERRNO_AGAIN || options.nonblock) throw err;
      }
    } else if (options.nonblock) return ERRNO_AGAIN;
    if (deadline !== null && performance.now() >= deadline) {
      throw new WasiError(`${point.syscall} timed out`, ERRNO_AGAIN);
    }
    const wait = deadline === null ? options.wait : () => {
      const ctl = new AbortController();
      return Promise.race([options.wait(), sleep(deadline - performance.now(), ctl.signal)])
        .finally(() => ctl.abort());
    };
    return proc.block(point, wait, run);
  };
  return run();
}
