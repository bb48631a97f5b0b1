/**
 * Encoding records into frames and whole journals.
 *
 * @module
 */

import { crc32 } from "node:zlib";
import { PayloadProblem } from "./_bytes.ts";
import { encodePayload } from "./_payload.ts";
import {
  FORMAT_VERSION,
  FRAME_HEAD_SIZE,
  FRAME_OVERHEAD,
  HEADER_SIZE,
  MAGIC,
  MAX_PAYLOAD,
} from "./format.ts";
import { type JournalRecord, RECORD_SCHEMAS, RECORD_TAGS } from "./records.ts";

/** Thrown when a record cannot be encoded because a field has the wrong type or range. */
export class RecordEncodeError extends Error {
  /** The kind of the offending record. */
  readonly kind: string;
  /** Builds the error. */
  constructor(kind: string, detail: string) {
    super(`Cannot encode ${kind} record: ${detail}`);
    this.name = "RecordEncodeError";
    this.kind = kind;
  }
}

/**
 * Encodes the 16-byte file header.
 *
 * @example
 * ```ts
 * import { encodeHeader } from "./encode.ts";
 * console.assert(encodeHeader().length === 16);
 * ```
 */
export function encodeHeader(): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint16(8, FORMAT_VERSION, true);
  view.setUint16(10, 0, true);
  view.setUint32(12, crc32(out.subarray(0, 12)), true);
  return out;
}

/**
 * Encodes one record as a frame: u16 tag, u8 version, u8 flags, u32 length, payload, u32 CRC-32.
 *
 * @example
 * ```ts
 * import { encodeRecord } from "./encode.ts";
 * const frame = encodeRecord({ kind: "exit", code: 0 });
 * console.assert(frame.length === 8 + 4 + 4);
 * ```
 * @throws {RecordEncodeError} when a field has the wrong type or range.
 */
export function encodeRecord(record: JournalRecord): Uint8Array {
  let tag: number, version: number, payload: Uint8Array;
  if (record.kind === "unknown") {
    ({ tag, version, payload } = record);
  } else {
    tag = RECORD_TAGS[record.kind];
    if (tag === undefined) {
      throw new RecordEncodeError(String(record.kind), "unknown kind");
    }
    version = RECORD_SCHEMAS[record.kind].version;
    try {
      payload = encodePayload(record);
    } catch (e) {
      if (e instanceof PayloadProblem) throw new RecordEncodeError(record.kind, e.message);
      throw e;
    }
  }
  if (payload.length > MAX_PAYLOAD) {
    throw new RecordEncodeError(
      record.kind,
      `payload of ${payload.length} bytes exceeds the ${MAX_PAYLOAD}-byte limit; split it`,
    );
  }
  const out = new Uint8Array(payload.length + FRAME_OVERHEAD);
  const view = new DataView(out.buffer);
  view.setUint16(0, tag, true);
  view.setUint8(2, version);
  view.setUint8(3, 0);
  view.setUint32(4, payload.length, true);
  out.set(payload, FRAME_HEAD_SIZE);
  const end = FRAME_HEAD_SIZE + payload.length;
  view.setUint32(end, crc32(out.subarray(0, end)), true);
  return out;
}

/**
 * Encodes a whole journal in memory: header, then one frame per record.
 *
 * @example
 * ```ts
 * import { encodeJournal } from "./encode.ts";
 * const bytes = encodeJournal([{ kind: "snapshot", trigger: "accept", timeNs: 0n }]);
 * console.assert(bytes.length > 16);
 * ```
 * @throws {RecordEncodeError} when a record has a field of the wrong type or range.
 */
export function encodeJournal(records: Iterable<JournalRecord>): Uint8Array {
  const frames = [encodeHeader()];
  let total = HEADER_SIZE;
  for (const r of records) {
    const f = encodeRecord(r);
    frames.push(f);
    total += f.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}
