/**
 * The one error type of the journal codec.
 *
 * @module
 */

/** What went wrong, as a stable code callers can switch on. */
export type JournalErrorCode =
  | "bad-magic"
  | "bad-version"
  | "bad-header"
  | "truncated"
  | "bad-length"
  | "bad-checksum"
  | "bad-payload"
  | "bad-record"
  | "no-snapshot";

/**
 * A damaged or malformed journal. `offset` is the byte offset of the damaged frame (or of the
 * header), and `recordIndex` the index of the damaged record (`-1` for the file header).
 *
 * @example
 * ```ts
 * import { JournalError } from "./errors.ts";
 * const e = new JournalError("bad-checksum", "Record checksum mismatch", 16, 0);
 * console.assert(e.message.includes("offset 16"));
 * ```
 */
export class JournalError extends Error {
  /** Stable code of the problem. */
  readonly code: JournalErrorCode;
  /** Byte offset of the damaged frame or header. */
  readonly offset: number;
  /** Index of the damaged record, `-1` for the file header. */
  readonly recordIndex: number;

  /** Builds the error; the message gets the offset and record index appended. */
  constructor(code: JournalErrorCode, detail: string, offset: number, recordIndex: number) {
    const where = recordIndex < 0
      ? `header at offset ${offset}`
      : `record ${recordIndex} at offset ${offset}`;
    super(`${detail} (${where})`);
    this.name = "JournalError";
    this.code = code;
    this.offset = offset;
    this.recordIndex = recordIndex;
  }
}
