/**
 * Whole-journal verification: checksums, structure, memory runs and snapshot completeness.
 *
 * @module
 */

import { JournalError, type JournalErrorCode } from "./errors.ts";
import { JournalFile } from "./file.ts";
import { checkRunLength, decompressRunInto, MemoryRunError, WASM_PAGE_SIZE } from "./memory.ts";
import type { JournalRecord } from "./records.ts";

/** Longest memory run `verifyJournal` will decode to check it (larger ones are reported). */
export const MAX_VERIFIED_RUN_BYTES: number = 1 << 30;

/** One problem found. */
export interface JournalProblem {
  readonly code: JournalErrorCode;
  readonly message: string;
  readonly offset: number;
  readonly recordIndex: number;
}

/** What {@link verifyJournal} found. */
export interface VerifyReport {
  /** True when there is no problem. */
  readonly ok: boolean;
  /** The problems, in file order; verification stops at the first damaged frame. */
  readonly problems: readonly JournalProblem[];
  readonly records: number;
  readonly snapshots: number;
  /** Records after the last snapshot marker (restore ignores them). */
  readonly pending: number;
  /** Records with tags this reader does not know (skipped). */
  readonly unknown: number;
  readonly byteLength: number;
}

function problemOf(e: JournalError): JournalProblem {
  return { code: e.code, message: e.message, offset: e.offset, recordIndex: e.recordIndex };
}

/**
 * Verifies a journal file without holding it in memory: every frame's checksum and payload, every
 * memory run (it must decode to its declared length and fit the memory's declared size), the
 * identity record's place (first), and that at least one snapshot marker exists.
 *
 * @example
 * ```ts
 * import { verifyJournal } from "./verify.ts";
 * import { writeJournalFile } from "./file.ts";
 * const path = await Deno.makeTempFile();
 * await writeJournalFile(path, [{ kind: "snapshot", trigger: "accept", timeNs: 0n }]);
 * console.assert((await verifyJournal(path)).ok);
 * ```
 * @throws {JournalError} when the header is damaged.
 */
export async function verifyJournal(path: string | URL): Promise<VerifyReport> {
  const file = await JournalFile.open(path);
  const problems: JournalProblem[] = [];
  let records = 0, snapshots = 0, sinceSnapshot = 0, unknown = 0;
  const pages = new Map<number, number>();
  let scratch = new Uint8Array(0);
  try {
    for await (const head of file.frames({ verify: true })) {
      let record: JournalRecord;
      try {
        record = await file.readRecord(head);
      } catch (e) {
        if (e instanceof JournalError) {
          problems.push(problemOf(e));
          break;
        }
        throw e;
      }
      records++;
      sinceSnapshot++;
      const bad = (code: JournalErrorCode, detail: string) =>
        problems.push(problemOf(new JournalError(code, detail, head.offset, head.index)));
      switch (record.kind) {
        case "snapshot":
          snapshots++;
          sinceSnapshot = 0;
          break;
        case "unknown":
          unknown++;
          break;
        case "identity":
          if (head.index !== 0) bad("bad-record", "The identity record must be the first record");
          break;
        case "memory.size":
          pages.set(record.memoryIndex, record.pages);
          break;
        case "memory.run": {
          const limit = pages.get(record.memoryIndex);
          const end = record.offset + record.byteLength;
          if (limit !== undefined && end > limit * WASM_PAGE_SIZE) {
            bad(
              "bad-record",
              `Memory run ends at ${end}, past the memory's ${limit} pages (${
                limit * WASM_PAGE_SIZE
              } bytes)`,
            );
            break;
          }
          if (record.byteLength > MAX_VERIFIED_RUN_BYTES) {
            bad("bad-record", `Memory run of ${record.byteLength} bytes exceeds 1 GiB; split it`);
            break;
          }
          try {
            checkRunLength(record);
            if (record.codec === "zero") break;
            if (scratch.length < record.byteLength) scratch = new Uint8Array(record.byteLength);
            decompressRunInto(record, scratch, record.offset);
          } catch (e) {
            if (!(e instanceof MemoryRunError)) throw e;
            bad("bad-payload", e.message);
          }
          break;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof JournalError)) throw e;
    problems.push(problemOf(e));
  } finally {
    file.close();
  }
  if (snapshots === 0 && problems.length === 0) {
    problems.push({
      code: "no-snapshot",
      message: "The journal holds no snapshot marker, so it restores nothing; capture a snapshot",
      offset: file.byteLength,
      recordIndex: records,
    });
  }
  return {
    ok: problems.length === 0,
    problems,
    records,
    snapshots,
    pending: snapshots === 0 ? records : sinceSnapshot,
    unknown,
    byteLength: file.byteLength,
  };
}
