/**
 * Instaboot: prepare a module, capture a warmed-up instance into a journal, restore instances from
 * it (docs/instaboot.md). The pipeline, one file per step:
 *
 * - `prepare.ts` {@link prepareModule} (deploy time, cached by content hash): exports mutable
 *   globals and runs binaryen's asyncify limited to the blocking imports; {@link restoreVariant}
 *   derives the restore-time module (no active data, optionally imported memory).
 * - `guest.ts` {@link Guest}: one instance with WASI/WASIX, its own network and memory root fs.
 * - `trigger.ts` {@link SnapshotPolicy}: when to snapshot (bootstrap, first-listen, first-stdin,
 *   explicit), as the process's `beforeBlock` hook.
 * - `asyncify.ts` {@link AsyncifyController}: a syscall returning {@link UNWIND} unwinds the
 *   guest's stack; a rewind resumes it inside that syscall.
 * - `instance_image.ts` and `os_state.ts`: memory, globals, rewind data, fs changes, fds and sockets
 *   as journal records, and back.
 * - `capture.ts` {@link captureApp}: boot, warm up, snapshot (deploy time).
 * - journal/'s `acceptJournal` (journal/accept.ts): is this journal for this module and config,
 *   intact, young enough? It lives with the codec, so that a host can check a journal without
 *   loading this engine.
 * - `restore.ts` {@link restoreInstance}; `boot.ts` {@link bootOrRestore} and the Worker's `boot`
 *   ({@link SNAPSHOT_BOOT_URL}): restore, or cold-boot with the reason.
 * - `bundle.ts`: the deploy bundle's manifest and checks (the admin API uses them).
 *
 * @example
 * ```ts
 * import { prepareModule } from "./mod.ts";
 * const prepared = await prepareModule(Deno.readFileSync("server.wasm"));
 * console.log(prepared.info.asyncify, prepared.info.inputSize, prepared.outputSize);
 * ```
 * @module
 */

export {
  ASYNCIFY_MEMORY_EXPORT,
  DEFAULT_BLOCKING_IMPORTS,
  GLOBAL_EXPORT_PREFIX,
  type GlobalType,
  moduleIdentity,
  PREPARE_SECTION,
  type PreparedModule,
  PrepareError,
  type PrepareInfo,
  prepareModule,
  type PrepareOptions,
  readPrepareInfo,
  RESTORE_MEMORY_IMPORT,
  restoreVariant,
  type RestoreVariantOptions,
  sha256Hex,
} from "./prepare.ts";
export {
  concatBytes,
  sleb128,
  uleb128,
  WasmFormatError,
  wasmName,
  WasmReader,
  type WasmSection,
  wasmSection,
  wasmSections,
} from "../wasm_binary/mod.ts";
export { AsyncifyController, AsyncifyError, type AsyncifyState, UNWIND } from "./asyncify.ts";
export {
  applyGlobals,
  applyMemoryImage,
  type CaptureImageOptions,
  captureInstanceImage,
  ImageMismatchError,
  type InstanceImage,
  instanceImageOf,
} from "./instance_image.ts";
export { promising, suspending } from "./_jspi.ts";
export {
  type BlockDecision,
  type BlockPoint,
  type BlockReason,
  SnapshotPolicy,
  type SnapshotPolicyOptions,
  type TriggerName,
} from "./trigger.ts";
export {
  BUNDLE_FORMAT,
  BundleError,
  type BundleManifest,
  checkBundleFiles,
  isBundleDir,
  parseManifest,
  readBundleFiles,
  safeRelativePath,
} from "./bundle.ts";
export {
  type AsyncBlockHook,
  Guest,
  type GuestConfig,
  type GuestOptions,
  type RunOutcome,
} from "./guest.ts";
export { applyOsState, captureOsState, type OsCapture, OsStateError } from "./os_state.ts";
export {
  type CaptureApp,
  captureApp,
  CaptureError,
  type CaptureOptions,
  type CaptureResult,
  checkExpect,
  type RequestReport,
  THAW_VERSION,
  type WarmupRequest,
  warmupRequest,
} from "./capture.ts";
export {
  AFTER_RESTORE_EXPORT,
  bootInstance,
  createWcgiRestoreRunner,
  type Restored,
  restoreInstance,
  type RestoreSource,
  restoreSourceOf,
} from "./restore.ts";
export {
  boot,
  type BootDecision,
  bootOrRestore,
  type BootOrRestoreOptions,
  guestConfigOf,
} from "./boot.ts";

/**
 * URL of the module whose `boot` export is the instance Worker's boot function for instaboot
 * (pass it as the pool's `bootUrl`).
 */
export const SNAPSHOT_BOOT_URL: string = new URL("./boot.ts", import.meta.url).href;

/**
 * Directories an instance Worker must be allowed to read to load {@link SNAPSHOT_BOOT_URL} (Thaw's
 * `runtime/` and `journal/` sources), besides the app's mounts and journal.
 */
export const SNAPSHOT_WORKER_READ: readonly string[] = [
  new URL("../", import.meta.url).pathname.replace(/\/$/, ""),
  new URL("../../journal", import.meta.url).pathname,
];
export { flatMemoryImage } from "./instance_image.ts";
