/**
 * Deploy-time preparation of a module for instaboot.
 *
 * 1. Every mutable, module-defined global gets an export `__thaw_global_<index>` so capture can
 *    read it and restore can set it (`__stack_pointer` and friends are not exported by toolchains).
 * 2. Unless the module is already asyncified (ruby.wasm is), binaryen's asyncify pass runs, limited
 *    to the imports that can block; its unwind buffer lives in a secondary memory exported as
 *    `__thaw_asyncify_memory`, so the guest's own memory is never touched by the snapshot machinery.
 * 3. A custom section `thaw.prepare` records what was done (JSON), so any later reader of the
 *    module knows how to capture and restore it.
 *
 * Preparation is deterministic and cached by content hash.
 * @module
 */

import { dropActiveData, importMemory } from "../wasm_binary/mod.ts";

/** binaryen's JS API. Loaded on first use: importing it takes about 2 s. */
type Binaryen = typeof import("binaryen").default;

let binaryenPromise: Promise<Binaryen> | null = null;
function loadBinaryen(): Promise<Binaryen> {
  binaryenPromise ??= import("binaryen").then((m) => m.default);
  return binaryenPromise;
}

/** Name of the custom section holding {@link PrepareInfo} as JSON. */
export const PREPARE_SECTION = "thaw.prepare";
/** Export name of the asyncify unwind buffer memory added by {@link prepareModule}. */
export const ASYNCIFY_MEMORY_EXPORT = "__thaw_asyncify_memory";
/** Prefix of the exports added for mutable globals. */
export const GLOBAL_EXPORT_PREFIX = "__thaw_global_";
/** Import module and name of the memory in a restore variant built with `importMemory`. */
export const RESTORE_MEMORY_IMPORT = { module: "thaw", name: "memory" } as const;

/**
 * Imports that may block, as `module.name`. Asyncify instruments only the call paths that reach
 * them. Kept in sync with the runtime's blocking-capable imports (see runtime/wasi BLOCKING_IMPORTS).
 */
export const DEFAULT_BLOCKING_IMPORTS: readonly string[] = [
  "wasi_snapshot_preview1.fd_read",
  "wasi_snapshot_preview1.fd_write",
  "wasi_snapshot_preview1.poll_oneoff",
  "wasi_snapshot_preview1.sock_accept",
  "wasi_snapshot_preview1.sock_recv",
  "wasi_snapshot_preview1.sock_send",
  "wasi_unstable.fd_read",
  "wasi_unstable.poll_oneoff",
  "wasix_32v1.fd_read",
  "wasix_32v1.fd_write",
  "wasix_32v1.poll_oneoff",
  "wasix_32v1.sock_accept",
  "wasix_32v1.sock_accept_v2",
  "wasix_32v1.sock_recv",
  "wasix_32v1.sock_recv_from",
  "wasix_32v1.sock_send",
  "wasix_32v1.sock_send_to",
  "wasix_32v1.sock_listen",
  "wasix_32v1.epoll_wait",
  "wasix_32v1.futex_wait",
  "wasix_32v1.thread_sleep",
  "wasix_32v1.proc_snapshot",
  "wasix_32v1.sched_yield",
];

/** The value type of an exported global, as JS sees it. */
export type GlobalType = "i32" | "i64" | "f32" | "f64";

/** What preparation did; stored in the module's `thaw.prepare` custom section. */
export interface PrepareInfo {
  /** Format version of this record. */
  readonly version: 1;
  /** SHA-256 (hex) of the module as the app shipped it. */
  readonly inputHash: string;
  /** Size in bytes of the input module. */
  readonly inputSize: number;
  /** `added`: asyncify ran here; `already`: the module came asyncified; `none`: nothing can block. */
  readonly asyncify: "added" | "already" | "none";
  /** The imports asyncify was limited to (`module.name`), when it ran here. */
  readonly asyncifyImports: readonly string[];
  /** Export name of the asyncify buffer memory, when asyncify ran here. */
  readonly asyncifyMemory: string | null;
  /** Size in bytes of the asyncify buffer (the deepest stack an unwind can save). */
  readonly asyncifyBufferSize: number;
  /** Exported mutable globals, in module order. */
  readonly globals: readonly { readonly export: string; readonly type: GlobalType }[];
  /** `command` modules export `_start`; `reactor` modules are driven through other exports. */
  readonly kind: "command" | "reactor";
}

/** Result of {@link prepareModule}. */
export interface PreparedModule {
  /** The prepared module's bytes (carries the `thaw.prepare` section). */
  readonly bytes: Uint8Array;
  /** SHA-256 (hex) of {@link bytes}. */
  readonly hash: string;
  /** What was done. */
  readonly info: PrepareInfo;
  /** Size in bytes of the prepared module. */
  readonly outputSize: number;
  /** Wall time of the preparation in milliseconds (0 on a cache hit). */
  readonly ms: number;
  /** Whether the result came from the cache. */
  readonly cached: boolean;
  /** The restore-time variant, when `PrepareOptions.restore` asked for it. */
  readonly restoreBytes?: Uint8Array;
}

/** Options of {@link prepareModule}. */
export interface PrepareOptions {
  /** Imports that can block (`module.name`). @default DEFAULT_BLOCKING_IMPORTS */
  readonly blockingImports?: readonly string[];
  /** Pages (64 KiB) of the asyncify buffer memory. @default 1 */
  readonly asyncifyPages?: number;
  /** Directory for the content-hash cache; no caching when absent. */
  readonly cacheDir?: string;
  /**
   * Also derive the restore-time variant ({@link restoreVariant}): no active data segments, and
   * memory as an import when `importMemory` is set. It lands in `PreparedModule.restoreBytes`.
   */
  readonly restore?: RestoreVariantOptions;
}

/** Thrown when a module cannot be prepared; `reason` says why in one word. */
export class PrepareError extends Error {
  /** Machine-readable reason. */
  readonly reason: "malformed" | "unsupported-global" | "invalid-output";
  /** Creates the error. */
  constructor(reason: PrepareError["reason"], message: string) {
    super(message);
    this.name = "PrepareError";
    this.reason = reason;
  }
}

/** Standard features V8 ships; binaryen may use them in its output. */
function v8Features(binaryen: Binaryen): number {
  const F = binaryen.Features;
  return F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt |
    F.SIMD128 | F.ReferenceTypes | F.Multivalue | F.MultiMemory | F.ExtendedConst;
}

const ASYNCIFY_EXPORTS = [
  "asyncify_start_unwind",
  "asyncify_stop_unwind",
  "asyncify_start_rewind",
  "asyncify_stop_rewind",
];

/** SHA-256 of bytes, as lowercase hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Prepares a module for capture and restore: exports its mutable globals and, unless it already
 * is, asyncifies it limited to the imports that can block.
 *
 * @throws {PrepareError} for a malformed module or a mutable global JS cannot read (v128, refs).
 * @example
 * ```ts
 * const prepared = await prepareModule(Deno.readFileSync("server.wasm"));
 * console.log(prepared.info.asyncify, prepared.info.inputSize, "->", prepared.outputSize);
 * ```
 */
export async function prepareModule(
  bytes: Uint8Array,
  options: PrepareOptions = {},
): Promise<PreparedModule> {
  const blocking = options.blockingImports ?? DEFAULT_BLOCKING_IMPORTS;
  const pages = options.asyncifyPages ?? 1;
  const inputHash = await sha256Hex(bytes);
  const key = await sha256Hex(
    new TextEncoder().encode(JSON.stringify({ v: 1, inputHash, blocking, pages })),
  );
  const cachePath = options.cacheDir ? `${options.cacheDir}/prepare-${key}.wasm` : null;
  if (cachePath !== null) {
    try {
      const cachedBytes = await Deno.readFile(cachePath);
      const info = readPrepareInfo(cachedBytes);
      if (info !== null && info.inputHash === inputHash) {
        return {
          bytes: cachedBytes,
          hash: await sha256Hex(cachedBytes),
          info,
          outputSize: cachedBytes.length,
          ms: 0,
          cached: true,
          restoreBytes: options.restore ? restoreVariant(cachedBytes, options.restore) : undefined,
        };
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const binaryen = await loadBinaryen();
  const t0 = performance.now();
  const out = transform(binaryen, bytes, inputHash, blocking, pages);
  const ms = performance.now() - t0;
  if (cachePath !== null) {
    await Deno.mkdir(options.cacheDir!, { recursive: true });
    const tmp = `${cachePath}.${crypto.randomUUID()}.tmp`;
    await Deno.writeFile(tmp, out.bytes);
    await Deno.rename(tmp, cachePath);
  }
  return {
    bytes: out.bytes,
    hash: await sha256Hex(out.bytes),
    info: out.info,
    outputSize: out.bytes.length,
    ms,
    cached: false,
    restoreBytes: options.restore ? restoreVariant(out.bytes, options.restore) : undefined,
  };
}

function globalType(binaryen: Binaryen, t: number): GlobalType | null {
  if (t === binaryen.i32) return "i32";
  if (t === binaryen.i64) return "i64";
  if (t === binaryen.f32) return "f32";
  if (t === binaryen.f64) return "f64";
  return null;
}

function transform(
  binaryen: Binaryen,
  bytes: Uint8Array,
  inputHash: string,
  blocking: readonly string[],
  pages: number,
): { bytes: Uint8Array; info: PrepareInfo } {
  if (readPrepareInfo(bytes) !== null) {
    throw new PrepareError(
      "malformed",
      "The module is already prepared (it has a thaw.prepare section); pass the original module",
    );
  }
  const imports = moduleImports(bytes);
  const exports = moduleExports(bytes);
  let m: ReturnType<Binaryen["readBinary"]>;
  try {
    m = binaryen.readBinary(bytes);
  } catch (e) {
    throw new PrepareError("malformed", `Binaryen cannot read the module: ${e}`);
  }
  try {
    // Not Features.All: it lets binaryen emit encodings V8 does not accept (compact imports).
    m.setFeatures(m.getFeatures() | v8Features(binaryen));
    const globals: { export: string; type: GlobalType }[] = [];
    const n = m.getNumGlobals();
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const g = binaryen.getGlobalInfo(m.getGlobalByIndex(i));
      if (!g.mutable || g.module) continue;
      const type = globalType(binaryen, g.type);
      if (type === null) {
        throw new PrepareError(
          "unsupported-global",
          `Mutable global "${g.name}" has a type JS cannot read or write (v128 or a reference); ` +
            "instaboot cannot snapshot this module, set capabilities.instaboot off",
        );
      }
      names.push(g.name);
      globals.push({ export: `${GLOBAL_EXPORT_PREFIX}${i}`, type });
    }
    names.forEach((name, i) => m.addGlobalExport(name, globals[i].export));

    const already = ASYNCIFY_EXPORTS.every((e) => exports.has(e));
    const used = imports.filter((imp) => blocking.includes(imp));
    let asyncify: PrepareInfo["asyncify"] = "none";
    let asyncifyMemory: string | null = null;
    if (already) asyncify = "already";
    else if (used.length > 0) {
      binaryen.setPassArgument("asyncify-imports", used.join(","));
      binaryen.setPassArgument("asyncify-in-secondary-memory", "1");
      binaryen.setPassArgument("asyncify-secondary-memory-size", String(pages));
      const level = binaryen.getOptimizeLevel();
      binaryen.setOptimizeLevel(2);
      try {
        m.runPasses(["asyncify"]);
      } finally {
        binaryen.setOptimizeLevel(level);
        binaryen.setPassArgument("asyncify-imports", null);
        binaryen.setPassArgument("asyncify-in-secondary-memory", null);
        binaryen.setPassArgument("asyncify-secondary-memory-size", null);
      }
      m.addMemoryExport("asyncify_memory", ASYNCIFY_MEMORY_EXPORT);
      asyncify = "added";
      asyncifyMemory = ASYNCIFY_MEMORY_EXPORT;
    }
    const info: PrepareInfo = {
      version: 1,
      inputHash,
      inputSize: bytes.length,
      asyncify,
      asyncifyImports: asyncify === "added" ? used : [],
      asyncifyMemory,
      asyncifyBufferSize: asyncify === "added" ? pages * 65536 : 0,
      globals,
      kind: exports.has("_start") ? "command" : "reactor",
    };
    m.addCustomSection(PREPARE_SECTION, new TextEncoder().encode(JSON.stringify(info)));
    if (!m.validate()) {
      throw new PrepareError("invalid-output", "Binaryen produced an invalid module; report a bug");
    }
    return { bytes: m.emitBinary(), info };
  } finally {
    m.dispose();
  }
}

function moduleImports(bytes: Uint8Array): string[] {
  try {
    const mod = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    return WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`);
  } catch (e) {
    throw new PrepareError("malformed", `The module does not compile: ${(e as Error).message}`);
  }
}

function moduleExports(bytes: Uint8Array): Set<string> {
  const mod = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  return new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
}

/**
 * Reads the {@link PrepareInfo} of a prepared module, or `null` for a module that was not prepared.
 *
 * @example
 * ```ts
 * const info = readPrepareInfo(await WebAssembly.compile(bytes));
 * ```
 */
export function readPrepareInfo(module: WebAssembly.Module | Uint8Array): PrepareInfo | null {
  let mod: WebAssembly.Module;
  if (module instanceof WebAssembly.Module) mod = module;
  else {
    try {
      mod = new WebAssembly.Module(module as Uint8Array<ArrayBuffer>);
    } catch {
      return null;
    }
  }
  const sections = WebAssembly.Module.customSections(mod, PREPARE_SECTION);
  if (sections.length !== 1) return null;
  try {
    const info = JSON.parse(new TextDecoder().decode(sections[0])) as PrepareInfo;
    return info.version === 1 ? info : null;
  } catch {
    return null;
  }
}

/**
 * The identity of a prepared module: SHA-256 (hex) of its `thaw.prepare` section, which names the
 * input module's hash and everything preparation did. Journals record it, and it can be computed
 * from a compiled module (a Worker has no bytes), and it survives rewrites that leave the code
 * alone (the host's memory-limit rewrite). For a ruby.wasm prepared by the Ruby runner (custom
 * section `thaw.prepared`), the SHA-256 of the original module it records, which its journals
 * name. Null for an unprepared module.
 *
 * @example
 * ```ts
 * const id = await moduleIdentity(await WebAssembly.compile(bytes));
 * ```
 */
export async function moduleIdentity(
  module: WebAssembly.Module | Uint8Array,
): Promise<string | null> {
  let mod: WebAssembly.Module;
  try {
    mod = module instanceof WebAssembly.Module
      ? module
      : new WebAssembly.Module(module as Uint8Array<ArrayBuffer>);
  } catch {
    return null;
  }
  const sections = WebAssembly.Module.customSections(mod, PREPARE_SECTION);
  if (sections.length === 1) return await sha256Hex(new Uint8Array(sections[0]));
  // The Ruby runner's section-level preparation: its journals name the original module's hash.
  const layouts = WebAssembly.Module.customSections(mod, RUBY_LAYOUT_SECTION);
  if (layouts.length !== 1) return null;
  try {
    const hash = JSON.parse(new TextDecoder().decode(layouts[0]))?.sourceSha256;
    return typeof hash === "string" && /^[0-9a-f]{64}$/.test(hash) ? hash : null;
  } catch {
    return null;
  }
}

/**
 * Custom section of a ruby.wasm prepared by the Ruby runner (runtime/runners/ruby/wasm_module.ts),
 * a JSON layout whose `sourceSha256` is the module identity its journals record.
 */
const RUBY_LAYOUT_SECTION = "thaw.prepared";

/** Options of {@link restoreVariant}. */
export interface RestoreVariantOptions {
  /**
   * Turn memory 0 into the import `thaw.memory`, so the host can supply a memory it already
   * filled. @default false
   */
  readonly importMemory?: boolean;
}

/**
 * Derives the restore-time variant of a prepared module: no active data segments (the snapshot
 * image already holds the memory, so instantiation starts from zeros) and, optionally, memory as an
 * import. Takes milliseconds even for large modules (no binaryen pass).
 *
 * @example
 * ```ts
 * const restoreBytes = restoreVariant(prepared.bytes, { importMemory: true });
 * ```
 */
export function restoreVariant(
  prepared: Uint8Array,
  options: RestoreVariantOptions = {},
): Uint8Array {
  let out = dropActiveData(prepared);
  if (options.importMemory) {
    out = importMemory(out, RESTORE_MEMORY_IMPORT.module, RESTORE_MEMORY_IMPORT.name);
  }
  return out;
}
