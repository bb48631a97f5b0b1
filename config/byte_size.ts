/**
 * Memory sizes as Wasmer writes them (`256MB`, `1 GiB`, `512 KiB`): a number, optional spaces and a
 * unit. Decimal units (KB, MB, GB, TB, PB) are powers of 1000, binary units (KiB, MiB, GiB, TiB,
 * PiB) powers of 1024; units are case-insensitive and a bare number counts bytes.
 *
 * @module
 */

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1e15,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
};

const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/;

/** The pattern a size string must match, for schemas and editors. */
export const BYTE_SIZE_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*([bB]|[kKmMgGtTpP][iI]?[bB]?)?\\s*$";

/**
 * Parses a size such as `"256MB"` or `"1 GiB"` to a whole number of bytes, or returns `undefined`
 * when the text is not a size.
 *
 * @example
 * ```ts
 * import { parseByteSize } from "./byte_size.ts";
 * parseByteSize("256MB"); // 256_000_000
 * parseByteSize("1 GiB"); // 1_073_741_824
 * parseByteSize("lots"); // undefined
 * ```
 */
export function parseByteSize(text: string | number): number | undefined {
  if (typeof text === "number") {
    return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  }
  const m = SIZE_RE.exec(text);
  if (m === null) return undefined;
  const factor = UNITS[m[2].toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Math.floor(Number(m[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
