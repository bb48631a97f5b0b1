/**
 * Thaw's version: recorded in every journal's identity record and in every bundle's manifest. A
 * module of its own, so that code that writes journals need not load the snapshot engine.
 *
 * @example
 * ```ts
 * import { THAW_VERSION } from "./mod.ts";
 * console.assert(/^\d+\.\d+\.\d+$/.test(THAW_VERSION));
 * ```
 * @module
 */

/** The version of Thaw, as recorded in journals and bundle manifests. */
export const THAW_VERSION = "0.1.0";
