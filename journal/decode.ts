/**
 * Decoding frames and whole journals held in memory. Every malformed input gives a
 * {@link JournalError} naming the byte offset and record index; lengths are capped by the bytes
 * that remain, so no input makes the decoder allocate without bound.
 *
 * @module
 */

import { crc32 } from "node:zlib";
import { PayloadProblem } from "./_bytes.ts";
import { decodePayload } from "./_payload.ts";
import { JournalError } from "./errors.ts";
import {
  FORMAT_VERSION,
  FRAME_HEAD_SIZE,
  FRAME_OVERHEAD,
  HEADER_SIZE,
  MAGIC,
  MAX_PAYLOAD,
} from "./format.ts";
import { type JournalRecord, kindOfTag, type KnownKind, RECORD_SCHEMAS } from "./records.ts";

/** The decoded file header. */
export interface JournalHeader {
  readonly formatVersion: number;
  readonly flags: number;
}

/** A frame's head: what a lazy reader learns without touching the payload. */
export interface FrameHead {
  /** Index of the record in the journal (0 is the first record after the header). */
  readonly index: number;
  /** Byte offset of the frame in the journal. */
  readonly offset: number;
  readonly tag: number;
  readonly version: number;
  /** The kind the tag and version stand for, `"unknown"` if this reader does not know them. */
  readonly kind: KnownKind | "unknown";
  readonly payloadLength: number;
  /** Whole frame size: head, payload and checksum. */
  readonly frameLength: number;
}

/**
 * Decodes and checks the 16-byte header.
 *
 * @throws {JournalError} `bad-magic`, `bad-version`, `bad-header` or `truncated`.
 */
export function decodeHeader(bytes: Uint8Array): JournalHeader {
  if (bytes.length < HEADER_SIZE) {
    throw new JournalError(
      "truncated",
      `Journal is ${bytes.length} bytes, shorter than its ${HEADER_SIZE}-byte header`,
      0,
      -1,
    );
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new JournalError(
        "bad-magic",
        "Not a Thaw journal: the file does not start with THAWJRNL",
        0,
        -1,
      );
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const formatVersion = view.getUint16(8, true);
  const flags = view.getUint16(10, true);
  if (view.getUint32(12, true) !== crc32(bytes.subarray(0, 12))) {
    throw new JournalError("bad-checksum", "Header checksum mismatch", 0, -1);
  }
  if (formatVersion !== FORMAT_VERSION) {
    throw new JournalError(
      "bad-version",
      `Journal format version ${formatVersion} is not supported (this Thaw reads version ${FORMAT_VERSION}); use a matching Thaw`,
      8,
      -1,
    );
  }
  if (flags !== 0) {
    throw new JournalError(
      "bad-header",
      `Header flags ${flags} are reserved and must be 0`,
      10,
      -1,
    );
  }
  return { formatVersion, flags };
}

/**
 * Decodes a frame head. `available` is how many bytes the journal holds from `offset` on; a
 * declared length beyond them is reported before anything is allocated.
 *
 * @throws {JournalError} `truncated`, `bad-length` or `bad-record`.
 */
export function decodeFrameHead(
  head: Uint8Array,
  offset: number,
  index: number,
  available: number,
): FrameHead {
  if (available < FRAME_HEAD_SIZE || head.length < FRAME_HEAD_SIZE) {
    throw new JournalError(
      "truncated",
      `Journal ends inside a frame head (${available} of ${FRAME_HEAD_SIZE} bytes)`,
      offset,
      index,
    );
  }
  const view = new DataView(head.buffer, head.byteOffset, FRAME_HEAD_SIZE);
  const tag = view.getUint16(0, true);
  const version = view.getUint8(2);
  const flags = view.getUint8(3);
  const payloadLength = view.getUint32(4, true);
  if (flags !== 0) {
    throw new JournalError(
      "bad-record",
      `Frame flags ${flags} are reserved and must be 0`,
      offset,
      index,
    );
  }
  if (payloadLength > MAX_PAYLOAD) {
    throw new JournalError(
      "bad-length",
      `Frame declares a ${payloadLength}-byte payload, over the ${MAX_PAYLOAD}-byte limit`,
      offset,
      index,
    );
  }
  const frameLength = payloadLength + FRAME_OVERHEAD;
  if (frameLength > available) {
    throw new JournalError(
      "truncated",
      `Frame declares ${frameLength} bytes but only ${available} remain; the journal was cut short or the length is corrupt`,
      offset,
      index,
    );
  }
  const known = kindOfTag(tag);
  const kind = known !== undefined && RECORD_SCHEMAS[known].version === version ? known : "unknown";
  return { index, offset, tag, version, kind, payloadLength, frameLength };
}

/**
 * Checks a whole frame's checksum and decodes its record. Unknown tags give an
 * `UnknownRecord` holding the payload. Byte fields are views into `frame`.
 *
 * @throws {JournalError} `bad-checksum` or `bad-payload`.
 */
export function decodeFrame(head: FrameHead, frame: Uint8Array): JournalRecord {
  const end = FRAME_HEAD_SIZE + head.payloadLength;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const stored = view.getUint32(end, true);
  const actual = crc32(frame.subarray(0, end));
  if (stored !== actual) {
    throw new JournalError(
      "bad-checksum",
      `Record checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)})`,
      head.offset,
      head.index,
    );
  }
  const payload = frame.subarray(FRAME_HEAD_SIZE, end);
  if (head.kind === "unknown") {
    return { kind: "unknown", tag: head.tag, version: head.version, payload };
  }
  try {
    return decodePayload(head.kind, payload);
  } catch (e) {
    if (e instanceof PayloadProblem) {
      throw new JournalError("bad-payload", e.message, head.offset, head.index);
    }
    throw e;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/** What reading a journal gave. */
export interface JournalContents {
  readonly header: JournalHeader;
  /** Every intact record, in order, up to the end or the first damage. */
  readonly records: readonly JournalRecord[];
  /** Records up to and including the last snapshot marker: the state restore applies. */
  readonly committed: readonly JournalRecord[];
  /** Records after the last snapshot marker: reported, never applied. */
  readonly pending: readonly JournalRecord[];
  /** The first damage met, when reading with `onDamage: "stop"`; `null` for an intact journal. */
  readonly damage: JournalError | null;
}

/** Options of {@link readJournal}. */
export interface ReadOptions {
  /**
   * `"throw"` (the default) throws the first damage; `"stop"` keeps the records before it and
   * reports it in `damage`. A damaged header always throws.
   * @default {"throw"}
   */
  readonly onDamage?: "throw" | "stop";
}

/** Splits records at the last snapshot marker into committed and pending. */
export function splitAtLastSnapshot(
  records: readonly JournalRecord[],
): { committed: readonly JournalRecord[]; pending: readonly JournalRecord[] } {
  let cut = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    if (records[i].kind === "snapshot") {
      cut = i + 1;
      break;
    }
  }
  return { committed: records.slice(0, cut), pending: records.slice(cut) };
}

/**
 * Reads a journal held in memory.
 *
 * @example
 * ```ts
 * import { encodeJournal } from "./encode.ts";
 * import { readJournal } from "./decode.ts";
 * const bytes = encodeJournal([
 *   { kind: "exit", code: 0 },
 *   { kind: "snapshot", trigger: "accept", timeNs: 1n },
 *   { kind: "fd.close", fd: 3 },
 * ]);
 * const { committed, pending } = readJournal(bytes);
 * console.assert(committed.length === 2 && pending.length === 1);
 * ```
 * @throws {JournalError} on damage (always for a damaged header).
 */
export function readJournal(bytes: Uint8Array, options: ReadOptions = {}): JournalContents {
  const header = decodeHeader(bytes);
  const records: JournalRecord[] = [];
  let damage: JournalError | null = null;
  let offset = HEADER_SIZE;
  while (offset < bytes.length) {
    try {
      const head = decodeFrameHead(
        bytes.subarray(offset, offset + FRAME_HEAD_SIZE),
        offset,
        records.length,
        bytes.length - offset,
      );
      records.push(decodeFrame(head, bytes.subarray(offset, offset + head.frameLength)));
      offset += head.frameLength;
    } catch (e) {
      if (!(e instanceof JournalError) || options.onDamage !== "stop") throw e;
      damage = e;
      break;
    }
  }
  return { header, records, ...splitAtLastSnapshot(records), damage };
}
