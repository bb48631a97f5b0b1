/**
 * The Wasm-level part of a snapshot: linear memory, mutable globals and the asyncify rewind data,
 * read from a live instance into journal records and written back into a fresh one.
 *
 * Memory is stored as the non-zero pages only, because restore instantiates the restore variant of
 * the module (no active data segments), whose memory starts all zero.
 * @module
 */

import {
  applyMemoryRuns,
  captureMemoryRuns,
  type GlobalsRecord,
  type GlobalValue,
  type JournalRecord,
  memoryImage,
  type MemoryRunRecord,
  type MemorySizeRecord,
  type ThreadStateRecord,
} from "../../journal/mod.ts";
import type { PrepareInfo } from "./prepare.ts";

const WASM_PAGE = 65536;

/** Thrown when a journal's Wasm state does not fit the module it is applied to. */
export class ImageMismatchError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ImageMismatchError";
  }
}

/** What {@link captureInstanceImage} needs besides the instance. */
export interface CaptureImageOptions {
  /** The unwound stack, from `AsyncifyController.finishUnwind()`; omit for an empty stack. */
  readonly rewindData?: Uint8Array;
  /** The export that was running when the guest unwound. @default "_start" */
  readonly entry?: string;
  /** Memory codec. @default "zstd" */
  readonly codec?: "none" | "zstd" | "lz4";
}

function memoryOf(instance: WebAssembly.Instance): WebAssembly.Memory {
  const mem = instance.exports.memory;
  if (!(mem instanceof WebAssembly.Memory)) {
    throw new ImageMismatchError('The instance exports no memory named "memory"');
  }
  return mem;
}

/**
 * Reads memory, globals and (when given) the rewind data of an instance of a prepared module.
 * Records come out in a fixed order: memory.size, memory.run..., globals, thread.state.
 *
 * @example
 * ```ts
 * const records = captureInstanceImage(instance, info, { rewindData: ctl.finishUnwind() });
 * ```
 */
export function captureInstanceImage(
  instance: WebAssembly.Instance,
  info: PrepareInfo,
  options: CaptureImageOptions = {},
): JournalRecord[] {
  const mem = memoryOf(instance);
  const size: MemorySizeRecord = {
    kind: "memory.size",
    memoryIndex: 0,
    pages: mem.buffer.byteLength / WASM_PAGE,
  };
  const runs = captureMemoryRuns(mem, { codec: options.codec ?? "zstd" });
  const globals: GlobalValue[] = info.globals.map((g, index) => {
    const global = instance.exports[g.export];
    if (!(global instanceof WebAssembly.Global)) {
      throw new ImageMismatchError(`The instance lacks the global export ${g.export}`);
    }
    return g.type === "i64"
      ? { index, type: "i64", value: BigInt(global.value) }
      : { index, type: g.type, value: Number(global.value) };
  });
  const out: JournalRecord[] = [size, ...runs, { kind: "globals", globals }];
  if (options.rewindData !== undefined) {
    const sp = globals[0]?.type === "i32" ? globals[0].value : 0;
    const thread: ThreadStateRecord = {
      kind: "thread.state",
      threadId: 0,
      entry: options.entry ?? "_start",
      asyncifyDataAddress: 0,
      rewindData: options.rewindData,
      stackPointer: sp,
      stackLow: 0,
      stackHigh: 0,
      stack: new Uint8Array(0),
    };
    out.push(thread);
  }
  return out;
}

/** The Wasm-level state a journal holds, pulled out of its records. */
export interface InstanceImage {
  /** Memory size in 64 KiB pages. */
  readonly pages: number;
  /** The memory runs (non-zero pages). */
  readonly runs: readonly MemoryRunRecord[];
  /** The mutable globals' values. */
  readonly globals: GlobalsRecord | null;
  /** The rewind data, null for an empty stack. */
  readonly thread: ThreadStateRecord | null;
}

/** Collects the Wasm-level records of a committed journal. */
export function instanceImageOf(records: readonly JournalRecord[]): InstanceImage {
  let pages = 0;
  const runs: MemoryRunRecord[] = [];
  let globals: GlobalsRecord | null = null;
  let thread: ThreadStateRecord | null = null;
  for (const r of records) {
    if (r.kind === "memory.size" && r.memoryIndex === 0) pages = r.pages;
    else if (r.kind === "memory.run" && r.memoryIndex === 0) runs.push(r);
    else if (r.kind === "globals") globals = r;
    else if (r.kind === "thread.state" && r.threadId === 0) thread = r;
  }
  return { pages, runs, globals, thread };
}

/**
 * Grows `memory` to the image's size and writes the image's pages into it. The memory must be
 * all zero (a fresh instance of the restore variant, or a blank memory), unless `clear` is set:
 * then what instantiation put there (data segments) is zeroed first.
 *
 * @throws {ImageMismatchError} when the memory is larger than the image or a run lies outside it.
 */
export function applyMemoryImage(
  memory: WebAssembly.Memory,
  image: InstanceImage,
  options: {
    readonly clear?: boolean;
    /** The image already decoded ({@link flatMemoryImage}): applied as one copy. */
    readonly flat?: Uint8Array;
  } = {},
): void {
  if (options.clear) new Uint8Array(memory.buffer).fill(0);
  const have = memory.buffer.byteLength / WASM_PAGE;
  if (have > image.pages) {
    throw new ImageMismatchError(
      `The module starts with ${have} memory pages but the journal holds ${image.pages}`,
    );
  }
  for (const r of image.runs) {
    if (r.offset + r.byteLength > image.pages * WASM_PAGE) {
      throw new ImageMismatchError(`A memory run at ${r.offset} ends beyond the memory size`);
    }
  }
  if (have < image.pages) memory.grow(image.pages - have);
  if (options.flat !== undefined) new Uint8Array(memory.buffer).set(options.flat);
  else applyMemoryRuns(image.runs, memory, { grow: false });
}

/**
 * Decodes the image's memory once into a flat buffer (restore copies it into each instance).
 *
 * @throws {ImageMismatchError} when a run is corrupt or lies outside the memory size.
 */
export function flatMemoryImage(image: InstanceImage): Uint8Array {
  for (const r of image.runs) {
    if (r.offset + r.byteLength > image.pages * WASM_PAGE) {
      throw new ImageMismatchError(`A memory run at ${r.offset} ends beyond the memory size`);
    }
  }
  // Only up to the last non-zero byte: the rest of a fresh memory is zero already.
  const end = image.runs.reduce((n, r) => Math.max(n, r.offset + r.byteLength), 0);
  return memoryImage(image.runs, end);
}

/**
 * Sets the instance's mutable globals from the image.
 *
 * @throws {ImageMismatchError} when the globals do not match the module's.
 */
export function applyGlobals(
  instance: WebAssembly.Instance,
  info: PrepareInfo,
  image: InstanceImage,
): void {
  const values = image.globals?.globals ?? [];
  if (values.length !== info.globals.length) {
    throw new ImageMismatchError(
      `The journal holds ${values.length} globals but the module has ${info.globals.length}`,
    );
  }
  for (const v of values) {
    const g = info.globals[v.index];
    const global = g === undefined ? undefined : instance.exports[g.export];
    if (!(global instanceof WebAssembly.Global) || g.type !== v.type) {
      throw new ImageMismatchError(`Global ${v.index} of the journal does not fit the module`);
    }
    global.value = v.value;
  }
}
