/**
 * Durations as Wasmer writes them in app.yaml (`30s`, `5m`, `2h`, `1d`): a whole number followed by
 * one unit letter, s, m, h or d, in either case.
 *
 * @module
 */

const UNIT_MS: Readonly<Record<string, number>> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

/** The pattern a duration string must match, for schemas and editors. */
export const DURATION_PATTERN = "^\\d+[smhdSMHD]$";

/**
 * Parses a duration such as `"1d"` or `"30s"` to milliseconds, or returns `undefined` when the
 * text is not a duration.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("2h"); // 7_200_000
 * parseDuration("1.5h"); // undefined: Wasmer durations are whole numbers
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)([smhdSMHD])$/.exec(text);
  if (m === null) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2].toLowerCase()];
  return Number.isSafeInteger(ms) ? ms : undefined;
}
