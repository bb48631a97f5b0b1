/**
 * Journals on disk: a streaming writer that syncs at each snapshot marker, and a lazy reader that
 * walks frame heads by file position without loading payloads.
 *
 * @module
 */

import { crc32 } from "node:zlib";
import {
  decodeFrame,
  decodeFrameHead,
  decodeHeader,
  type FrameHead,
  type JournalContents,
  type JournalHeader,
  type ReadOptions,
  splitAtLastSnapshot,
} from "./decode.ts";
import { summarizePayload } from "./_payload.ts";
import { encodeHeader, encodeRecord } from "./encode.ts";
import { JournalError } from "./errors.ts";
import { FRAME_HEAD_SIZE, HEADER_SIZE } from "./format.ts";
import type { JournalRecord } from "./records.ts";

/** A record with its byte fields reduced to their lengths, as listings show it. */
export type RecordSummary = JournalRecord extends infer R ? R extends JournalRecord ? {
      readonly [K in keyof R]: R[K] extends Uint8Array ? { readonly length: number } : R[K];
    }
  : never
  : never;

/** Payloads up to this size are read whole (and checksummed) by {@link JournalFile.summarize}. */
export const SUMMARY_PREFIX_BYTES = 64 * 1024;

/** Buffered bytes past which the writer writes out (without syncing) before a snapshot marker. */
const WRITE_BEHIND_BYTES = 4 << 20;
/** Chunk size for streaming checksum verification. */
const VERIFY_CHUNK = 1 << 20;

async function readFullAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let at = 0;
  while (at < length) {
    const n = await file.read(out.subarray(at));
    if (n === null) break;
    at += n;
  }
  return at === length ? out : out.subarray(0, at);
}

/**
 * Appends records to a journal file. Frames are buffered and written in order; each snapshot
 * marker writes everything out and syncs the file, so a crash leaves a readable prefix that ends
 * at the last synced snapshot (plus possibly a torn frame that readers report as damage).
 *
 * @example
 * ```ts
 * import { JournalWriter } from "./file.ts";
 * const path = await Deno.makeTempFile({ suffix: ".journal" });
 * const w = await JournalWriter.create(path);
 * await w.append({ kind: "exit", code: 0 });
 * await w.append({ kind: "snapshot", trigger: "explicit", timeNs: 0n });
 * await w.close();
 * ```
 */
export class JournalWriter {
  readonly #file: Deno.FsFile;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #written = 0;
  #closed = false;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Creates (or truncates) `path` and writes the header. */
  static async create(path: string | URL): Promise<JournalWriter> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    const w = new JournalWriter(file);
    w.#queue(encodeHeader());
    return w;
  }

  /**
   * Opens `path` to append more records, creating it when absent. A torn tail (a frame cut short
   * by a crash, or damaged) is cut off first, so the new records follow the last intact one.
   *
   * @throws {JournalError} when the file exists but its header is damaged.
   */
  static async resume(path: string | URL): Promise<JournalWriter> {
    let end = 0;
    try {
      const existing = await JournalFile.open(path);
      end = HEADER_SIZE;
      try {
        for await (const head of existing.frames({ verify: true })) {
          end = head.offset + head.frameLength;
        }
      } catch (e) {
        if (!(e instanceof JournalError)) throw e;
      } finally {
        existing.close();
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (end === 0) return await JournalWriter.create(path);
    const file = await Deno.open(path, { write: true });
    await file.truncate(end);
    await file.seek(end, Deno.SeekMode.Start);
    const w = new JournalWriter(file);
    w.#written = end;
    return w;
  }

  /** Bytes handed to the file so far, buffered ones included. */
  get byteLength(): number {
    return this.#written + this.#pendingBytes;
  }

  #queue(frame: Uint8Array): void {
    this.#pending.push(frame);
    this.#pendingBytes += frame.length;
  }

  async #writeOut(): Promise<void> {
    for (const chunk of this.#pending) {
      let at = 0;
      while (at < chunk.length) at += await this.#file.write(chunk.subarray(at));
    }
    this.#written += this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  /**
   * Appends one record. A snapshot marker is written out and synced before this resolves.
   *
   * @throws {RecordEncodeError} when the record has a field of the wrong type or range.
   */
  async append(record: JournalRecord): Promise<void> {
    if (this.#closed) throw new Error("JournalWriter is closed; create a new one to write more");
    this.#queue(encodeRecord(record));
    if (record.kind === "snapshot") await this.flush();
    else if (this.#pendingBytes >= WRITE_BEHIND_BYTES) await this.#writeOut();
  }

  /** Writes out every buffered frame and syncs the file's data to disk. */
  async flush(): Promise<void> {
    await this.#writeOut();
    await this.#file.syncData();
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#file.close();
  }
}

/** Options of {@link JournalFile.frames}. */
export interface FramesOptions {
  /** Also check each frame's checksum, streaming its payload in 1 MiB chunks. @default {false} */
  readonly verify?: boolean;
}

/**
 * A journal file opened for lazy reading.
 *
 * @example
 * ```ts
 * import { JournalFile } from "./file.ts";
 * import { JournalWriter } from "./file.ts";
 * const path = await Deno.makeTempFile();
 * const w = await JournalWriter.create(path);
 * await w.append({ kind: "snapshot", trigger: "accept", timeNs: 0n });
 * await w.close();
 * const f = await JournalFile.open(path);
 * for await (const head of f.frames()) console.assert(head.kind === "snapshot");
 * f.close();
 * ```
 */
export class JournalFile {
  readonly #file: Deno.FsFile;
  /** The decoded header. */
  readonly header: JournalHeader;
  /** File size in bytes. */
  readonly byteLength: number;

  private constructor(file: Deno.FsFile, header: JournalHeader, byteLength: number) {
    this.#file = file;
    this.header = header;
    this.byteLength = byteLength;
  }

  /**
   * Opens `path` and checks its header.
   *
   * @throws {JournalError} when the header is damaged; `Deno.errors.NotFound` when absent.
   */
  static async open(path: string | URL): Promise<JournalFile> {
    const file = await Deno.open(path, { read: true });
    try {
      const size = (await file.stat()).size;
      const header = decodeHeader(await readFullAt(file, 0, Math.min(size, HEADER_SIZE)));
      return new JournalFile(file, header, size);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /**
   * Yields every frame head in order, reading 8 bytes per frame and seeking past payloads.
   *
   * @throws {JournalError} at the first damaged frame (checksums only with `verify`).
   */
  async *frames(options: FramesOptions = {}): AsyncGenerator<FrameHead> {
    let offset = HEADER_SIZE;
    let index = 0;
    while (offset < this.byteLength) {
      const head = decodeFrameHead(
        await readFullAt(this.#file, offset, FRAME_HEAD_SIZE),
        offset,
        index,
        this.byteLength - offset,
      );
      if (options.verify) await this.#verify(head);
      yield head;
      offset += head.frameLength;
      index++;
    }
  }

  async #verify(head: FrameHead): Promise<void> {
    const end = head.offset + FRAME_HEAD_SIZE + head.payloadLength;
    let crc = 0;
    for (let at = head.offset; at < end; at += VERIFY_CHUNK) {
      crc = crc32(await readFullAt(this.#file, at, Math.min(VERIFY_CHUNK, end - at)), crc);
    }
    const tail = await readFullAt(this.#file, end, 4);
    const stored = new DataView(tail.buffer).getUint32(0, true);
    if (stored !== crc) {
      throw new JournalError(
        "bad-checksum",
        `Record checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${
          crc.toString(16)
        })`,
        head.offset,
        head.index,
      );
    }
  }

  /**
   * Reads and decodes one frame's record.
   *
   * @throws {JournalError} when its checksum or payload is bad.
   */
  async readRecord(head: FrameHead): Promise<JournalRecord> {
    return decodeFrame(head, await readFullAt(this.#file, head.offset, head.frameLength));
  }

  /**
   * Describes one frame's record for a listing without reading a large payload: payloads up to
   * 64 KiB are read and checksummed as {@link readRecord} does; larger ones are summarized from
   * their first 64 KiB, unchecked (byte fields give only their length). Use `verifyJournal` to
   * check everything.
   *
   * @throws {JournalError} when a small record's checksum or payload is bad.
   */
  async summarize(head: FrameHead): Promise<RecordSummary> {
    if (head.payloadLength <= SUMMARY_PREFIX_BYTES) return await this.readRecord(head);
    if (head.kind === "unknown") {
      const { tag, version, payloadLength } = head;
      return { kind: "unknown", tag, version, payload: { length: payloadLength } };
    }
    const prefix = await readFullAt(
      this.#file,
      head.offset + FRAME_HEAD_SIZE,
      SUMMARY_PREFIX_BYTES,
    );
    return summarizePayload(head.kind, prefix) as unknown as RecordSummary;
  }

  /**
   * Reads every record, as `readJournal` does for bytes in memory.
   *
   * @throws {JournalError} on damage, unless `onDamage` is `"stop"`.
   */
  async read(options: ReadOptions = {}): Promise<JournalContents> {
    const records: JournalRecord[] = [];
    let damage: JournalError | null = null;
    try {
      for await (const head of this.frames()) records.push(await this.readRecord(head));
    } catch (e) {
      if (!(e instanceof JournalError) || options.onDamage !== "stop") throw e;
      damage = e;
    }
    return { header: this.header, records, ...splitAtLastSnapshot(records), damage };
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}

/**
 * Opens, reads and closes a journal file.
 *
 * @throws {JournalError} on damage, unless `onDamage` is `"stop"` (a damaged header always throws).
 */
export async function readJournalFile(
  path: string | URL,
  options: ReadOptions = {},
): Promise<JournalContents> {
  const f = await JournalFile.open(path);
  try {
    return await f.read(options);
  } finally {
    f.close();
  }
}

/**
 * Writes records to `path` as a complete journal and syncs it.
 *
 * @throws {RecordEncodeError} when a record has a field of the wrong type or range.
 */
export async function writeJournalFile(
  path: string | URL,
  records: Iterable<JournalRecord>,
): Promise<number> {
  const w = await JournalWriter.create(path);
  try {
    for (const r of records) await w.append(r);
  } finally {
    await w.close();
  }
  return w.byteLength;
}
