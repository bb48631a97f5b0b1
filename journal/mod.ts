/**
 * The Thaw journal: what deploy writes and every cold start reads.
 *
 * - {@link JournalRecord}: plain readonly records (identity, memory runs, globals, thread state,
 *   fd table, fs mutations, sockets, boot facts, snapshot marker, exit), with frozen tags.
 * - Binary codec ({@link encodeJournal}, {@link readJournal}): a header, then frames of tag,
 *   version, length, payload and CRC-32; specified in journal/FORMAT.md.
 * - Files ({@link JournalWriter}, {@link JournalFile}): streaming writer syncing at snapshot
 *   markers, lazy reader walking frame heads.
 * - Memory ({@link captureMemoryRuns}, {@link applyMemoryRuns}, {@link memoryImage}): non-zero or
 *   changed pages to compressed runs, and runs straight into a target memory.
 * - {@link foldRecords}: the reference state model; {@link compactRecords}: compaction;
 *   {@link verifyJournal}: whole-file checks.
 *
 * This folder knows nothing of runtime/: the runtime turns its state into records and back.
 *
 * @example
 * ```ts
 * import { captureMemoryRuns, encodeJournal, memoryImage, readJournal } from "./mod.ts";
 * const memory = new Uint8Array(65536);
 * memory[42] = 1;
 * const bytes = encodeJournal([
 *   ...captureMemoryRuns(memory),
 *   { kind: "snapshot", trigger: "accept", timeNs: 0n },
 * ]);
 * const { committed } = readJournal(bytes);
 * const runs = committed.filter((r) => r.kind === "memory.run");
 * console.assert(memoryImage(runs, 65536)[42] === 1);
 * ```
 * @module
 */

export * from "./records.ts";
export { JournalError, type JournalErrorCode } from "./errors.ts";
export {
  FORMAT_VERSION,
  FRAME_HEAD_SIZE,
  FRAME_OVERHEAD,
  FRAME_TAIL_SIZE,
  HEADER_SIZE,
  MAGIC,
  MAX_PAYLOAD,
} from "./format.ts";
export { encodeHeader, encodeJournal, encodeRecord, RecordEncodeError } from "./encode.ts";
export {
  decodeFrame,
  decodeFrameHead,
  decodeHeader,
  type FrameHead,
  type JournalContents,
  type JournalHeader,
  readJournal,
  type ReadOptions,
  splitAtLastSnapshot,
} from "./decode.ts";
export {
  type FramesOptions,
  JournalFile,
  JournalWriter,
  readJournalFile,
  type RecordSummary,
  SUMMARY_PREFIX_BYTES,
  writeJournalFile,
} from "./file.ts";
export {
  applyMemoryRuns,
  type ApplyOptions,
  captureMemoryRuns,
  type CaptureOptions,
  compressRun,
  decompressRunInto,
  DEFAULT_CODEC,
  DEFAULT_MAX_RUN_BYTES,
  DEFAULT_PAGE_SIZE,
  DEFAULT_ZSTD_LEVEL,
  memoryImage,
  MemoryRunError,
  WASM_PAGE_SIZE,
} from "./memory.ts";
export {
  type FdState,
  type FileContent,
  type FileExtent,
  foldRecords,
  type FsEntry,
  type JournalState,
  type MemoryState,
  type SocketState,
  type Times,
} from "./state.ts";
export { type CompactOptions, compactRecords } from "./compact.ts";
export {
  type JournalProblem,
  MAX_VERIFIED_RUN_BYTES,
  verifyJournal,
  type VerifyReport,
} from "./verify.ts";
export {
  type AcceptedJournal,
  acceptJournal,
  type AcceptOptions,
  checkJournal,
  checkMaxAge,
  configHash,
  type ConfigIdentity,
  configIdentityOf,
  type JournalChecks,
  REJECT_REASONS,
  type RejectedJournal,
  type RejectReason,
} from "./accept.ts";
