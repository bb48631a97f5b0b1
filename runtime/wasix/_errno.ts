/**
 * Maps virtual-network errors to WASI errnos.
 *
 * @module
 */

import {
  ERRNO_ADDRINUSE,
  ERRNO_ADDRNOTAVAIL,
  ERRNO_AFNOSUPPORT,
  ERRNO_AGAIN,
  ERRNO_CONNREFUSED,
  ERRNO_CONNRESET,
  ERRNO_INVAL,
  ERRNO_NETUNREACH,
  ERRNO_NOTCONN,
  ERRNO_PIPE,
  WasiError,
} from "../wasi/mod.ts";
import { VnetError, type VnetErrorCode } from "../vnet/mod.ts";

const ERRNOS: Record<VnetErrorCode, number> = {
  EADDRINUSE: ERRNO_ADDRINUSE,
  EADDRNOTAVAIL: ERRNO_ADDRNOTAVAIL,
  EAFNOSUPPORT: ERRNO_AFNOSUPPORT,
  EAGAIN: ERRNO_AGAIN,
  ECONNREFUSED: ERRNO_CONNREFUSED,
  ECONNRESET: ERRNO_CONNRESET,
  EINVAL: ERRNO_INVAL,
  ENETUNREACH: ERRNO_NETUNREACH,
  ENOTCONN: ERRNO_NOTCONN,
  EPIPE: ERRNO_PIPE,
};

/** Runs `fn`, turning a {@link VnetError} into the matching {@link WasiError}. */
export function net<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof VnetError) throw new WasiError(err.message, ERRNOS[err.code]);
    throw err;
  }
}

/** Throws `WasiError(errno)`. */
export function fail(errno: number, message: string): never {
  throw new WasiError(message, errno);
}
