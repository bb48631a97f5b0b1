/**
 * Compilation hints: which functions a restored instance runs first, written into the module so
 * that V8 compiles them before the first request instead of during it.
 *
 * V8 compiles a Wasm function lazily, on the thread that first calls it. A restored Ruby
 * instance skips the boot, so the first request of a process is the first caller of about 700
 * functions (850 KB of code, about 45 ms of Liftoff on this VM). Deploy records those functions
 * by replaying the warm-up requests on a *profiling* variant of the module (each function stores
 * a 1 in a second memory when it runs) and appends the list to the bundle's module as a
 * `metadata.code.compilation_priority` custom section, the format of the WebAssembly compilation
 * hints proposal. A V8 started with `--experimental-wasm-compilation-hints` (Thaw's `serve` task
 * sets it) compiles the listed functions eagerly, on its background threads, while the module
 * compiles; any other engine ignores the section.
 *
 * The section changes nothing the module does, so the journal's module identity (the hash of the
 * original ruby.wasm, in `thaw.prepared`) stays the same.
 *
 * @example
 * ```ts ignore
 * const profiling = await WebAssembly.compile(profilingModule(prepared));
 * // ... restore an instance of `profiling`, replay the warm-up requests ...
 * const hinted = withCompilationHints(prepared, profiledFunctions(profileMemory));
 * ```
 *
 * @module
 */

import {
  appendToVector,
  concatBytes,
  importCounts,
  skipValueType,
  sleb128,
  uleb128,
  WasmFormatError,
  wasmName,
  WasmReader,
  type WasmSection,
  wasmSection,
  wasmSections,
} from "../../wasm_binary/mod.ts";

/** Name of the custom section V8 reads compilation priorities from. */
export const PRIORITY_SECTION = "metadata.code.compilation_priority";
/** Export name of the profiling variant's second memory: one byte per function index. */
export const PROFILE_EXPORT = "thaw_profile";
/** The V8 flag that makes V8 act on {@linkcode PRIORITY_SECTION}. */
export const HINTS_V8_FLAG = "--experimental-wasm-compilation-hints";

const SECTION_FUNCTION = 3;
const SECTION_MEMORY = 5;
const SECTION_EXPORT = 7;
const SECTION_CODE = 10;
/** Canonical order of the known sections that may precede the memory section. */
const BEFORE_MEMORY = new Set([1, 2, 3, 4]);

function customName(bytes: Uint8Array, s: WasmSection): string | undefined {
  if (s.id !== 0) return undefined;
  const r = new WasmReader(bytes, s.start);
  const n = r.u32();
  return new TextDecoder().decode(bytes.subarray(r.pos, r.pos + n));
}

function counts(bytes: Uint8Array, secs: readonly WasmSection[]) {
  const imported = importCounts(bytes);
  const fn = secs.find((s) => s.id === SECTION_FUNCTION);
  const definedFuncs = fn ? new WasmReader(bytes, fn.start).u32() : 0;
  const mem = secs.find((s) => s.id === SECTION_MEMORY);
  const definedMemories = mem ? new WasmReader(bytes, mem.start).u32() : 0;
  return {
    importedFuncs: imported.funcs,
    definedFuncs,
    memories: imported.memories + definedMemories,
  };
}

/**
 * The profiling variant of a module: one more memory (exported as {@linkcode PROFILE_EXPORT},
 * one byte per function index), and every defined function begins by storing 1 at its own index
 * there. Function, global and memory 0 indices are unchanged, so an image captured from the
 * original module restores into it. For deploy-time measurement only.
 *
 * @throws {WasmFormatError} if the module cannot be read.
 */
export function profilingModule(bytes: Uint8Array): Uint8Array {
  const secs = wasmSections(bytes);
  const { importedFuncs, definedFuncs, memories } = counts(bytes, secs);
  const total = importedFuncs + definedFuncs;
  const pages = Math.max(1, Math.ceil(total / 65536));
  const memIndex = memories;
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let memoryWritten = false;
  const newMemory = () => {
    memoryWritten = true;
    return wasmSection(SECTION_MEMORY, [...uleb128(1), 0x01, ...uleb128(pages), ...uleb128(pages)]);
  };
  for (const s of secs) {
    if (!memoryWritten && s.id !== 0 && !BEFORE_MEMORY.has(s.id) && s.id !== SECTION_MEMORY) {
      parts.push(newMemory());
    }
    if (s.id === SECTION_MEMORY) {
      // Keep the module's own memories and append ours after them.
      parts.push(
        appendToVector(bytes, s, 1, Uint8Array.of(0x01, ...uleb128(pages), ...uleb128(pages))),
      );
      memoryWritten = true;
    } else if (s.id === SECTION_EXPORT) {
      const ours = Uint8Array.of(...wasmName(PROFILE_EXPORT), 0x02, ...uleb128(memIndex));
      parts.push(appendToVector(bytes, s, 1, ours));
    } else if (s.id === SECTION_CODE) {
      parts.push(wasmSection(SECTION_CODE, markedBodies(bytes, s, importedFuncs, memIndex)));
    } else {
      parts.push(bytes.subarray(s.headerStart, s.end));
    }
  }
  if (!secs.some((s) => s.id === SECTION_EXPORT)) {
    throw new WasmFormatError("The module has no export section", 8);
  }
  return concatBytes(parts);
}

/** The code section payload with `i32.const idx; i32.const 1; i32.store8 mem` prepended. */
function markedBodies(
  bytes: Uint8Array,
  s: WasmSection,
  importedFuncs: number,
  memIndex: number,
): Uint8Array {
  const r = new WasmReader(bytes, s.start);
  const n = r.u32();
  const out: Uint8Array[] = [Uint8Array.from(uleb128(n))];
  for (let i = 0; i < n; i++) {
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    for (let groups = r.u32(); groups > 0; groups--) {
      r.u32();
      skipValueType(r);
    }
    const localsEnd = r.pos;
    // i32.const <function index>; i32.const 1; i32.store8 (align 0, memory index flag) mem 0
    const mark = Uint8Array.of(
      0x41,
      ...sleb128(importedFuncs + i),
      0x41,
      0x01,
      0x3a,
      0x40,
      ...uleb128(memIndex),
      0x00,
    );
    out.push(
      Uint8Array.from(uleb128(size + mark.length)),
      bytes.subarray(start, localsEnd),
      mark,
      bytes.subarray(localsEnd, end),
    );
    r.skip(end - r.pos);
  }
  return concatBytes(out);
}

/** The function indices a profiling instance ran, read from its {@linkcode PROFILE_EXPORT}. */
export function profiledFunctions(profile: WebAssembly.Memory): number[] {
  const bytes = new Uint8Array(profile.buffer);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) out.push(i);
  return out;
}

/**
 * The module with a {@linkcode PRIORITY_SECTION} listing `functions` (indices in the function
 * index space, imports included; imported ones are dropped) at the highest priority, replacing
 * any such section it had. Appended at the end; everything else is copied byte for byte.
 *
 * @example
 * ```ts ignore
 * const hinted = withCompilationHints(prepared, [120, 121, 9407]);
 * ```
 * @throws {WasmFormatError} if the module cannot be read.
 */
export function withCompilationHints(bytes: Uint8Array, functions: Iterable<number>): Uint8Array {
  const secs = wasmSections(bytes);
  const { importedFuncs, definedFuncs } = counts(bytes, secs);
  const list = [...new Set(functions)]
    .filter((f) => Number.isInteger(f) && f >= importedFuncs && f < importedFuncs + definedFuncs)
    .sort((a, b) => a - b);
  const payload: number[] = [...wasmName(PRIORITY_SECTION), ...uleb128(list.length)];
  for (const f of list) {
    // funcidx, hint offset 0 (the hint is about the whole function), hint size, priority 0.
    payload.push(...uleb128(f), 0x00, 0x01, 0x00);
  }
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const s of secs) {
    if (customName(bytes, s) !== PRIORITY_SECTION) parts.push(bytes.subarray(s.headerStart, s.end));
  }
  parts.push(wasmSection(0, payload));
  return concatBytes(parts);
}

/**
 * The function indices a module's {@linkcode PRIORITY_SECTION} lists (empty without one).
 *
 * @throws {WasmFormatError} if the section is malformed.
 */
export function compilationHints(bytes: Uint8Array): number[] {
  for (const s of wasmSections(bytes)) {
    if (customName(bytes, s) !== PRIORITY_SECTION) continue;
    const r = new WasmReader(bytes, s.start);
    r.skip(r.u32());
    const out: number[] = [];
    for (let n = r.u32(); n > 0; n--) {
      out.push(r.u32());
      r.u32();
      r.skip(r.u32());
    }
    if (r.pos !== s.end) throw new WasmFormatError("Malformed compilation hints section", r.pos);
    return out;
  }
  return [];
}
