/**
 * Errors raised by the virtual network. `code` is a POSIX errno name so that the WASIX layer can
 * map it to a WASI errno without parsing messages.
 *
 * @module
 */

/** The POSIX error names the virtual network raises. */
export type VnetErrorCode =
  | "EADDRINUSE"
  | "EADDRNOTAVAIL"
  | "EAFNOSUPPORT"
  | "EAGAIN"
  | "ECONNREFUSED"
  | "ECONNRESET"
  | "EINVAL"
  | "ENETUNREACH"
  | "ENOTCONN"
  | "EPIPE";

/**
 * A virtual-network failure with a POSIX error name.
 *
 * @example
 * ```ts
 * import { VnetError } from "./errors.ts";
 * const err = new VnetError("Port 8080 is already in use; pick another port", "EADDRINUSE");
 * console.log(err.code); // "EADDRINUSE"
 * ```
 */
export class VnetError extends Error {
  /** The POSIX error name, for example `"ECONNREFUSED"`. */
  readonly code: VnetErrorCode;

  /** Creates an error with a message that suggests the fix, and its error name. */
  constructor(message: string, code: VnetErrorCode) {
    super(message);
    this.name = "VnetError";
    this.code = code;
  }
}
