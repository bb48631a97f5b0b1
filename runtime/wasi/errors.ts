/**
 * The two exceptions of the WASI host. A syscall throws {@link WasiError} to answer with an errno;
 * `proc_exit` throws {@link ProcExit}. Anything else thrown inside a syscall is a host bug and is
 * rethrown as one.
 *
 * @module
 */

import { ERRNO_NAMES } from "./defs.ts";

/**
 * An error that a syscall answers to the guest as an errno.
 *
 * @example
 * ```ts
 * import { ERRNO_NOENT } from "./defs.ts";
 * const err = new WasiError("No such file: a.txt", ERRNO_NOENT);
 * console.log(err.errno, err.code); // 44 "NOENT"
 * ```
 */
export class WasiError extends Error {
  /** The preview1 errno the guest receives. */
  readonly errno: number;

  constructor(message: string, errno: number) {
    super(message);
    this.name = "WasiError";
    this.errno = errno;
  }

  /** The errno's name without the `E` prefix (`"NOENT"`). */
  get code(): string {
    return errnoName(this.errno);
  }
}

/**
 * Thrown by `proc_exit` (and by traps that end the process) to unwind the guest's stack. Whoever
 * called the guest export catches it and reads {@link ProcExit.code}.
 */
export class ProcExit extends Error {
  /** The exit status the guest asked for. */
  readonly code: number;

  constructor(code: number) {
    super(`Guest exited with code ${code}`);
    this.name = "ProcExit";
    this.code = code;
  }
}

/** The name of an errno without the `E` prefix, or `"errno <n>"` for unknown values. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}
