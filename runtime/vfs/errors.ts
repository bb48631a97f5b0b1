/**
 * The vfs reports failures with {@link FsError}, whose `code` is a POSIX errno name without the
 * `E` prefix. `runtime/wasi` maps the code to a preview1 errno; the vfs itself knows nothing of
 * WASI numbers.
 *
 * @module
 */

/** Errno names the vfs may report. */
export type FsErrorCode =
  | "ACCES"
  | "BADF"
  | "EXIST"
  | "FBIG"
  | "INVAL"
  | "IO"
  | "ISDIR"
  | "LOOP"
  | "MLINK"
  | "NAMETOOLONG"
  | "NOENT"
  | "NOSPC"
  | "NOTCAPABLE"
  | "NOTDIR"
  | "NOTEMPTY"
  | "NOTSUP"
  | "PERM"
  | "ROFS"
  | "XDEV";

/**
 * A file-system failure with a structured errno name.
 *
 * @example
 * ```ts
 * const e = new FsError("NOENT", "No such file or directory: a/b");
 * console.log(e.code); // "NOENT"
 * ```
 */
export class FsError extends Error {
  /** The POSIX errno name without the `E` prefix. */
  readonly code: FsErrorCode;

  constructor(code: FsErrorCode, message: string) {
    super(message);
    this.name = "FsError";
    this.code = code;
  }
}

/** Throws an {@link FsError}. */
export function fail(code: FsErrorCode, message: string): never {
  throw new FsError(code, message);
}
