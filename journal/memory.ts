/**
 * Linear memory to memory runs and back.
 *
 * {@link captureMemoryRuns} finds the pages worth storing (non-zero ones, or with a previous image
 * the changed ones), groups neighbours into runs and compresses each run with its own codec.
 * {@link applyMemoryRuns} decompresses runs straight into a `Uint8Array` or `WebAssembly.Memory`.
 *
 * @module
 */

import zlib from "node:zlib";
import { createRequire } from "node:module";
// Types only: the package itself loads on first use (see lz4Block).
import type * as Lz4Package from "lz4js";
import { CODEC_IDS, type MemoryCodec, type MemoryRunRecord } from "./records.ts";

/** The default memory codec, chosen by measurement (see BENCHMARKS.md, "Journal"). */
export const DEFAULT_CODEC: MemoryCodec = "zstd";
/** The default zstd level. */
export const DEFAULT_ZSTD_LEVEL = 3;
/** The default page size for zero and change detection. */
export const DEFAULT_PAGE_SIZE = 4096;
/** The default longest run, in bytes. */
export const DEFAULT_MAX_RUN_BYTES: number = 1 << 20;
/** Size of a Wasm page. */
export const WASM_PAGE_SIZE = 65536;

/** Thrown when a memory run does not decode to what it declares, or does not fit its target. */
export class MemoryRunError extends Error {
  /** The run's offset in linear memory. */
  readonly runOffset: number;
  /** Builds the error. */
  constructor(runOffset: number, detail: string) {
    super(`Memory run at memory offset ${runOffset}: ${detail}`);
    this.name = "MemoryRunError";
    this.runOffset = runOffset;
  }
}

interface Lz4Block {
  compressBound(n: number): number;
  compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    hashTable: Uint32Array,
  ): number;
  decompressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    dIndex: number,
  ): number;
}
let lz4: Lz4Block | undefined;
/**
 * lz4js, loaded on the first lz4 run: a CommonJS package whose load costs about 10 ms, which a host
 * start or an instance Worker would otherwise pay for journals that hold no lz4 run at all.
 */
function lz4Block(): Lz4Block {
  return lz4 ??= createRequire(import.meta.url)("lz4js") as typeof Lz4Package as Lz4Block;
}
let lz4HashTable: Uint32Array | undefined;

/**
 * Compresses one run's bytes with `codec`.
 *
 * @example
 * ```ts
 * import { compressRun } from "./memory.ts";
 * console.assert(compressRun(new Uint8Array(4096), "zstd").length < 100);
 * ```
 */
export function compressRun(
  bytes: Uint8Array,
  codec: MemoryCodec,
  level = DEFAULT_ZSTD_LEVEL,
): Uint8Array {
  switch (codec) {
    case "none":
      return bytes.slice();
    case "zero":
      return new Uint8Array(0);
    case "zstd":
      return new Uint8Array(
        zlib.zstdCompressSync(bytes, {
          params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
        }),
      );
    case "lz4": {
      if (bytes.length === 0) return new Uint8Array(0);
      const LZ4 = lz4Block();
      const out = new Uint8Array(LZ4.compressBound(bytes.length));
      const table = lz4HashTable ??= new Uint32Array(1 << 16);
      table.fill(0);
      const n = LZ4.compressBlock(
        bytes,
        out,
        0,
        bytes.length,
        table,
      );
      // lz4js gives 0 for input it could not compress; store a literals-only block instead.
      return n > 0 ? out.slice(0, n) : lz4Literals(bytes);
    }
  }
}

function lz4Literals(bytes: Uint8Array): Uint8Array {
  let extra = bytes.length - 15;
  const out: number[] = [extra >= 0 ? 0xf0 : bytes.length << 4];
  if (extra >= 0) {
    while (extra >= 255) {
      out.push(255);
      extra -= 255;
    }
    out.push(extra);
  }
  const r = new Uint8Array(out.length + bytes.length);
  r.set(out);
  r.set(bytes, out.length);
  return r;
}

/** Largest output per input byte a codec can produce (zstd RLE blocks, lz4 runs of 255). */
const MAX_EXPANSION: Readonly<Record<MemoryCodec, number>> = {
  none: 1,
  zero: Infinity,
  zstd: 1 << 16,
  lz4: 256,
};

/**
 * Checks that a run's declared length is possible for its compressed size, before anything is
 * allocated for it: a corrupt length cannot make a reader allocate without bound.
 *
 * @throws {MemoryRunError} when it is not.
 */
export function checkRunLength(run: MemoryRunRecord): void {
  const max = run.codec === "zero" ? Infinity : MAX_EXPANSION[run.codec] * run.data.length + 1024;
  if (run.codec === "none" ? run.byteLength !== run.data.length : run.byteLength > max) {
    throw new MemoryRunError(
      run.offset,
      `${run.data.length} ${run.codec} bytes cannot decode to the ${run.byteLength} bytes declared`,
    );
  }
  if (run.codec === "zero" && run.data.length !== 0) {
    throw new MemoryRunError(run.offset, "zero run carries data");
  }
}

/**
 * Decompresses a run into `target` at `target[run.offset - base]`. Never writes outside
 * `target`.
 *
 * @throws {MemoryRunError} when the run does not fit or does not decode to `run.byteLength`.
 */
export function decompressRunInto(run: MemoryRunRecord, target: Uint8Array, base = 0): void {
  checkRunLength(run);
  const at = run.offset - base;
  if (at < 0 || at + run.byteLength > target.length) {
    throw new MemoryRunError(
      run.offset,
      `${run.byteLength} bytes do not fit a ${target.length}-byte target`,
    );
  }
  const dst = target.subarray(at, at + run.byteLength);
  switch (run.codec) {
    case "zero":
      if (run.data.length !== 0) throw new MemoryRunError(run.offset, "zero run carries data");
      dst.fill(0);
      return;
    case "none":
      if (run.data.length !== run.byteLength) {
        throw new MemoryRunError(
          run.offset,
          `holds ${run.data.length} bytes, declares ${run.byteLength}`,
        );
      }
      dst.set(run.data);
      return;
    case "zstd": {
      let out: Uint8Array;
      try {
        out = zlib.zstdDecompressSync(run.data, { maxOutputLength: Math.max(1, run.byteLength) });
      } catch (e) {
        throw new MemoryRunError(run.offset, `zstd data is corrupt: ${(e as Error).message}`);
      }
      if (out.length !== run.byteLength) {
        throw new MemoryRunError(
          run.offset,
          `zstd data decodes to ${out.length} bytes, declares ${run.byteLength}`,
        );
      }
      dst.set(out);
      return;
    }
    case "lz4": {
      const end = run.data.length === 0
        ? 0
        : lz4Block().decompressBlock(run.data, dst, 0, run.data.length, 0);
      if (end !== run.byteLength) {
        throw new MemoryRunError(
          run.offset,
          `lz4 data decodes to ${end} bytes, declares ${run.byteLength}`,
        );
      }
      return;
    }
  }
  throw new MemoryRunError(run.offset, `unknown codec ${String(run.codec)}`);
}

/** Options of {@link captureMemoryRuns}. */
export interface CaptureOptions {
  /** The image of the previous snapshot: only pages that differ from it are stored. */
  readonly previous?: Uint8Array;
  /** Which linear memory the runs belong to. @default {0} */
  readonly memoryIndex?: number;
  /** Codec of the runs. @default {"zstd"} */
  readonly codec?: Exclude<MemoryCodec, "zero">;
  /** zstd compression level. @default {3} */
  readonly level?: number;
  /** Granularity of zero and change detection, a multiple of 4. @default {4096} */
  readonly pageSize?: number;
  /** Longest run in bytes; longer stretches are split. @default {1048576} */
  readonly maxRunBytes?: number;
}

function bytesOf(memory: Uint8Array | ArrayBuffer | WebAssembly.Memory): Uint8Array {
  if (memory instanceof Uint8Array) return memory;
  if (memory instanceof ArrayBuffer) return new Uint8Array(memory);
  return new Uint8Array(memory.buffer);
}

/** 0 = skip, 1 = store, 2 = store as zero (changed to all-zero). */
function classifyPages(
  mem: Uint8Array,
  prev: Uint8Array | undefined,
  pageSize: number,
): Uint8Array {
  const pages = Math.ceil(mem.length / pageSize);
  const out = new Uint8Array(pages);
  const aligned = mem.byteOffset % 4 === 0 && mem.length % 4 === 0;
  const m32 = aligned ? new Uint32Array(mem.buffer, mem.byteOffset, mem.length / 4) : undefined;
  const prevAligned = prev !== undefined && prev.byteOffset % 4 === 0;
  const p32 = prev !== undefined && prevAligned
    ? new Uint32Array(prev.buffer, prev.byteOffset, prev.length >>> 2)
    : undefined;
  for (let p = 0; p < pages; p++) {
    const start = p * pageSize;
    const end = Math.min(start + pageSize, mem.length);
    let nonZero = false;
    if (m32 !== undefined && end % 4 === 0) {
      for (let i = start >>> 2, e = end >>> 2; i < e; i++) {
        if (m32[i] !== 0) {
          nonZero = true;
          break;
        }
      }
    } else {
      for (let i = start; i < end; i++) {
        if (mem[i] !== 0) {
          nonZero = true;
          break;
        }
      }
    }
    if (prev === undefined) {
      out[p] = nonZero ? 1 : 0;
      continue;
    }
    let changed = false;
    if (end > prev.length) {
      // Bytes beyond the previous image were zero.
      changed = nonZero || prevNonZero(prev, start, prev.length);
    } else if (m32 !== undefined && p32 !== undefined && end % 4 === 0) {
      for (let i = start >>> 2, e = end >>> 2; i < e; i++) {
        if (m32[i] !== p32[i]) {
          changed = true;
          break;
        }
      }
    } else {
      for (let i = start; i < end; i++) {
        if (mem[i] !== prev[i]) {
          changed = true;
          break;
        }
      }
    }
    out[p] = !changed ? 0 : nonZero ? 1 : 2;
  }
  return out;
}

function prevNonZero(prev: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (prev[i] !== 0) return true;
  return false;
}

/**
 * Turns a memory into `memory.run` records: only non-zero pages, or, given `previous`, only the
 * pages that changed since it (pages that became all-zero get codec `zero`). Neighbouring pages
 * of the same class form one run of at most `maxRunBytes`. The output is deterministic.
 *
 * @example
 * ```ts
 * import { captureMemoryRuns, memoryImage } from "./memory.ts";
 * const mem = new Uint8Array(65536);
 * mem[5000] = 7;
 * const runs = captureMemoryRuns(mem);
 * console.assert(runs.length === 1 && runs[0].offset === 4096);
 * console.assert(memoryImage(runs, mem.length)[5000] === 7);
 * ```
 */
export function captureMemoryRuns(
  memory: Uint8Array | ArrayBuffer | WebAssembly.Memory,
  options: CaptureOptions = {},
): MemoryRunRecord[] {
  const mem = bytesOf(memory);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const maxRun = options.maxRunBytes ?? DEFAULT_MAX_RUN_BYTES;
  const codec = options.codec ?? DEFAULT_CODEC;
  if (!Number.isInteger(pageSize) || pageSize <= 0 || pageSize % 4 !== 0) {
    throw new RangeError(`pageSize must be a positive multiple of 4, got ${pageSize}`);
  }
  if (!Number.isInteger(maxRun) || maxRun < pageSize) {
    throw new RangeError(`maxRunBytes must be an integer of at least pageSize, got ${maxRun}`);
  }
  if (CODEC_IDS[codec] === undefined || codec === "zero") {
    throw new RangeError(`codec must be "none", "zstd" or "lz4", got ${String(codec)}`);
  }
  const classes = classifyPages(mem, options.previous, pageSize);
  const memoryIndex = options.memoryIndex ?? 0;
  const runs: MemoryRunRecord[] = [];
  const pagesPerRun = Math.floor(maxRun / pageSize);
  let p = 0;
  while (p < classes.length) {
    const cls = classes[p];
    if (cls === 0) {
      p++;
      continue;
    }
    const first = p;
    while (p < classes.length && classes[p] === cls && p - first < pagesPerRun) p++;
    const offset = first * pageSize;
    const end = Math.min(p * pageSize, mem.length);
    const bytes = mem.subarray(offset, end);
    const runCodec: MemoryCodec = cls === 2 ? "zero" : codec;
    runs.push({
      kind: "memory.run",
      memoryIndex,
      offset,
      byteLength: end - offset,
      codec: runCodec,
      data: compressRun(bytes, runCodec, options.level),
    });
  }
  return runs;
}

/** Options of {@link applyMemoryRuns}. */
export interface ApplyOptions {
  /** Only runs of this memory are applied. @default {0} */
  readonly memoryIndex?: number;
  /** Grow a `WebAssembly.Memory` target when a run ends beyond it. @default {true} */
  readonly grow?: boolean;
}

/**
 * Decompresses runs, in order, straight into `target`. Later runs overwrite earlier ones.
 * Returns the number of bytes written.
 *
 * @example
 * ```ts
 * import { applyMemoryRuns, captureMemoryRuns } from "./memory.ts";
 * const src = new Uint8Array(65536).fill(3);
 * const target = new WebAssembly.Memory({ initial: 1 });
 * applyMemoryRuns(captureMemoryRuns(src), target);
 * console.assert(new Uint8Array(target.buffer)[100] === 3);
 * ```
 * @throws {MemoryRunError} when a run is corrupt or does not fit a `Uint8Array` target.
 */
export function applyMemoryRuns(
  runs: Iterable<MemoryRunRecord>,
  target: Uint8Array | WebAssembly.Memory,
  options: ApplyOptions = {},
): number {
  const memoryIndex = options.memoryIndex ?? 0;
  let written = 0;
  let bytes = target instanceof Uint8Array ? target : new Uint8Array(target.buffer);
  for (const run of runs) {
    if (run.memoryIndex !== memoryIndex) continue;
    const end = run.offset + run.byteLength;
    if (end > bytes.length && !(target instanceof Uint8Array) && options.grow !== false) {
      target.grow(Math.ceil((end - bytes.length) / WASM_PAGE_SIZE));
      bytes = new Uint8Array(target.buffer);
    }
    decompressRunInto(run, bytes);
    written += run.byteLength;
  }
  return written;
}

/**
 * Decodes runs into a fresh flat image of `byteLength` bytes (default: the end of the last run).
 * Restore can decode once per process and copy the image into each new instance's memory.
 *
 * @throws {MemoryRunError} when a run is corrupt or ends beyond `byteLength`.
 */
export function memoryImage(
  runs: readonly MemoryRunRecord[],
  byteLength?: number,
  memoryIndex = 0,
): Uint8Array {
  let size = byteLength ?? 0;
  if (byteLength === undefined) {
    for (const r of runs) {
      if (r.memoryIndex === memoryIndex) size = Math.max(size, r.offset + r.byteLength);
    }
  }
  const image = new Uint8Array(size);
  applyMemoryRuns(runs, image, { memoryIndex });
  return image;
}
