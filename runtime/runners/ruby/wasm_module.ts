/**
 * Section-level reading and rewriting of a core WebAssembly binary, just enough to prepare
 * ruby.wasm for restore: list the active data segments, and emit a module that imports its
 * memory, keeps its data segments passive (copied in only by an added `thaw_init_data` export)
 * and exports its mutable globals.
 *
 * Working on sections (not on a full IR) keeps this at tens of milliseconds for the 30 MB
 * ruby+stdlib.wasm, where a binaryen read takes about 4.5 s.
 *
 * The binary reading and writing itself is Thaw's one Wasm binary reader (runtime/wasm_binary:
 * `WasmReader`, `wasmSections`, LEB128), which the snapshot engine's rewrites share.
 *
 * @module
 */

import {
  appendToVector,
  concatBytes,
  importCounts,
  sleb128,
  uleb128,
  WasmFormatError,
  wasmName,
  WasmReader,
  type WasmSection,
  wasmSection,
  wasmSections,
} from "../../wasm_binary/mod.ts";

/** An active data segment with a constant offset. */
export interface DataSegment {
  /** Index in the module's data index space. */
  readonly index: number;
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** What {@linkcode inspectModule} learns about a module. */
export interface ModuleFacts {
  /** Initial memory size in 64 KiB pages. */
  readonly memoryMinPages: number;
  /** Maximum memory size in pages, if declared. */
  readonly memoryMaxPages: number | undefined;
  /** Every active data segment, in order. */
  readonly dataSegments: readonly DataSegment[];
  /** Indices of the module's own mutable globals (imported globals are not counted). */
  readonly mutableGlobals: readonly { index: number; type: number }[];
}

export { WasmFormatError };

/**
 * Reads the memory limits, the active data segments and the mutable globals of a module.
 *
 * @example
 * ```ts ignore
 * const facts = inspectModule(await Deno.readFile("ruby+stdlib.wasm"));
 * console.log(facts.dataSegments.length, facts.mutableGlobals);
 * ```
 * @throws {WasmFormatError} if the module imports its memory, has several memories, or a
 * data segment with a non-constant offset.
 */
export function inspectModule(bytes: Uint8Array): ModuleFacts {
  const secs = wasmSections(bytes);
  const byId = (id: number) => secs.find((s) => s.id === id);
  const mem = byId(5);
  if (!mem) throw new WasmFormatError("Module defines no memory of its own", 0);
  const mr = new WasmReader(bytes, mem.start);
  if (mr.u32() !== 1) throw new WasmFormatError("Expected exactly one memory", mem.start);
  const limits = mr.limits();

  const globalsBase = importCounts(bytes).globals;
  const mutableGlobals: { index: number; type: number }[] = [];
  const gs = byId(6);
  if (gs) {
    const r = new WasmReader(bytes, gs.start);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const type = r.u8();
      const mutable = r.u8() === 1;
      r.skipConstExpr();
      if (mutable) mutableGlobals.push({ index: globalsBase + i, type });
    }
  }

  const dataSegments: DataSegment[] = [];
  const ds = byId(11);
  if (ds) {
    const r = new WasmReader(bytes, ds.start);
    const count = r.u32();
    for (let index = 0; index < count; index++) {
      const flag = r.u32();
      if (flag === 1) {
        r.skip(r.u32());
        continue; // passive: not part of the initial image
      }
      if (flag === 2) r.u32();
      if (r.u8() !== 0x41) throw new WasmFormatError("Data offset is not i32.const", r.pos);
      const offset = r.s32() >>> 0;
      if (r.u8() !== 0x0b) throw new WasmFormatError("Data offset is not constant", r.pos);
      const len = r.u32();
      dataSegments.push({ index, offset, bytes: bytes.subarray(r.pos, r.pos + len) });
      r.skip(len);
    }
  }
  return {
    memoryMinPages: limits.min,
    memoryMaxPages: limits.max,
    dataSegments,
    mutableGlobals,
  };
}

/** Where the prepared module imports its memory from. */
export const MEMORY_IMPORT = { module: "thaw", name: "memory" } as const;
/** Prefix of the exports that expose mutable globals: `thaw_global_<index>`. */
export const GLOBAL_EXPORT_PREFIX = "thaw_global_";
/** Export that copies the original data segments into memory (the boot path calls it first). */
export const INIT_DATA_EXPORT = "thaw_init_data";
/** Custom section of a prepared module holding its {@linkcode PreparedLayout} as JSON. */
export const LAYOUT_SECTION = "thaw.prepared";

/**
 * What restore needs to know about a prepared module, stored inside it (custom section
 * `thaw.prepared`) so that a host holding only the compiled `WebAssembly.Module` can read it.
 */
export interface PreparedLayout {
  /** Layout version. */
  readonly version: 1;
  /** Initial memory size in pages (what a booting memory needs). */
  readonly memoryMinPages: number;
  /** Declared maximum memory size in pages, if any. */
  readonly memoryMaxPages?: number;
  /** Mutable globals: index and value type byte (0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64). */
  readonly globals: readonly { readonly index: number; readonly type: number }[];
  /** Number of data segments `thaw_init_data` copies. */
  readonly dataSegments: number;
  /** Hex SHA-256 of the original module; the prepared bytes follow from it deterministically. */
  readonly sourceSha256: string;
  /**
   * Indices of the two i32 globals prepare adds for the Rack runner's entry point: the receiver
   * (a boxed `rb-abi-value` the guest keeps alive) and the method id the runner calls per
   * request. Booting sets them; a snapshot captures them with the other globals, so a restored
   * instance calls straight in without parsing Ruby. Absent in modules prepared before they
   * existed (the runner then evaluates `Thaw::Rack.serve`).
   */
  readonly entryGlobals?: readonly [number, number];
  /**
   * True for the restore-only variant ({@linkcode restoreOnlyModule}): its data segments are
   * empty, so it restores from a journal but cannot boot Ruby from scratch.
   */
  readonly restoreOnly?: boolean;
}

/**
 * Reads the layout of a prepared module.
 *
 * @throws {WasmFormatError} if the module was not prepared by {@linkcode prepareModule}.
 */
export function readLayout(module: WebAssembly.Module): PreparedLayout {
  const [section] = WebAssembly.Module.customSections(module, LAYOUT_SECTION);
  if (!section) {
    throw new WasmFormatError(
      "Module was not prepared for Thaw's Ruby runner (no thaw.prepared section); " +
        "load it with loadRubyProgram(), or deploy it with `deno task deploy`",
      0,
    );
  }
  const layout = JSON.parse(new TextDecoder().decode(section)) as PreparedLayout;
  if (layout.version !== 1) {
    throw new WasmFormatError(`Unsupported thaw.prepared version ${layout.version}`, 0);
  }
  return layout;
}

/**
 * Reads the layout of a prepared module from its bytes (without compiling it).
 *
 * @throws {WasmFormatError} if the bytes carry no `thaw.prepared` section.
 */
export function readLayoutFromBytes(bytes: Uint8Array): PreparedLayout {
  for (const s of wasmSections(bytes)) {
    if (s.id !== 0) continue;
    const r = new WasmReader(bytes, s.start);
    const n = r.u32();
    if (new TextDecoder().decode(bytes.subarray(r.pos, r.pos + n)) !== LAYOUT_SECTION) continue;
    return JSON.parse(new TextDecoder().decode(bytes.subarray(r.pos + n, s.end)));
  }
  throw new WasmFormatError("Module was not prepared for Thaw's Ruby runner", 0);
}

/** True if the bytes already carry a `thaw.prepared` section (a cheap scan of section heads). */
export function isPrepared(bytes: Uint8Array): boolean {
  for (const s of wasmSections(bytes)) {
    if (s.id !== 0) continue;
    const r = new WasmReader(bytes, s.start);
    const n = r.u32();
    if (new TextDecoder().decode(bytes.subarray(r.pos, r.pos + n)) === LAYOUT_SECTION) return true;
  }
  return false;
}

/**
 * Emits the restore-time form of a module, which also boots:
 *
 * - memory is imported from `thaw.memory` with the original limits;
 * - every active data segment becomes passive (same index, same bytes), so instantiating copies
 *   nothing into memory;
 * - a new export `thaw_init_data` copies those segments in with `memory.init` (what
 *   instantiation used to do), for booting from scratch;
 * - every mutable global is exported as `thaw_global_<index>`;
 * - a custom section `thaw.prepared` records the {@linkcode PreparedLayout}.
 *
 * Everything else is copied byte for byte, so the output is deterministic.
 *
 * @example
 * ```ts ignore
 * const module = await WebAssembly.compile(prepareModule(bytes, sha256Hex));
 * ```
 * @throws {WasmFormatError} if the module cannot be read or has no memory of its own.
 */
export function prepareModule(bytes: Uint8Array, sourceSha256: string): Uint8Array {
  const facts = inspectModule(bytes);
  const secs = wasmSections(bytes);
  const byId = (id: number) => secs.find((x) => x.id === id);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  const mem = byId(5)!;
  const mr = new WasmReader(bytes, mem.start);
  mr.u32();
  const limitsStart = mr.pos;
  mr.limits();
  const memImport = new Uint8Array([
    ...wasmName(MEMORY_IMPORT.module),
    ...wasmName(MEMORY_IMPORT.name),
    0x02,
    ...bytes.subarray(limitsStart, mr.pos),
  ]);
  const imports = importCounts(bytes);
  const count = (id: number) => byId(id) ? new WasmReader(bytes, byId(id)!.start).u32() : 0;
  // Two new mutable i32 globals at the end of the index space (nothing else moves): the entry.
  const entryBase = imports.globals + count(6);
  const entryGlobals: [number, number] = [entryBase, entryBase + 1];
  const globals = [
    ...facts.mutableGlobals,
    { index: entryBase, type: 0x7f },
    { index: entryBase + 1, type: 0x7f },
  ];
  const zeroI32 = [0x7f, 0x01, 0x41, 0x00, 0x0b];
  const typeCount = count(1);
  const funcCount = count(3);
  const initFunc = imports.funcs + funcCount;

  const body: number[] = [0];
  for (const seg of facts.dataSegments) {
    body.push(0x41, ...sleb128(seg.offset | 0), 0x41, 0, 0x41, ...sleb128(seg.bytes.length | 0));
    body.push(0xfc, 0x08, ...uleb128(seg.index), 0x00, 0xfc, 0x09, ...uleb128(seg.index));
  }
  body.push(0x0b);
  const code = new Uint8Array([...uleb128(body.length), ...body]);
  const dataCount = count(11);

  for (const id of [1, 2, 3, 6, 7, 10, 11]) {
    if (!byId(id)) {
      throw new WasmFormatError(`Module lacks section ${id}; it does not look like ruby.wasm`, 8);
    }
  }
  for (const s of secs) {
    // memory.init needs a data count section, which must come just before the code section.
    if (s.id === 10 && !byId(12)) parts.push(wasmSection(12, new Uint8Array(uleb128(dataCount))));
    switch (s.id) {
      case 1:
        parts.push(appendToVector(bytes, s, 1, new Uint8Array([0x60, 0, 0])));
        break;
      case 2:
        parts.push(appendToVector(bytes, s, 1, memImport));
        break;
      case 3:
        parts.push(appendToVector(bytes, s, 1, new Uint8Array(uleb128(typeCount))));
        break;
      case 5:
        break;
      case 6:
        parts.push(appendToVector(bytes, s, 2, new Uint8Array([...zeroI32, ...zeroI32])));
        break;
      case 7: {
        const extra: number[] = [...wasmName(INIT_DATA_EXPORT), 0x00, ...uleb128(initFunc)];
        for (const g of globals) {
          extra.push(...wasmName(GLOBAL_EXPORT_PREFIX + g.index), 0x03, ...uleb128(g.index));
        }
        parts.push(appendToVector(bytes, s, 1 + globals.length, new Uint8Array(extra)));
        break;
      }
      case 10:
        parts.push(appendToVector(bytes, s, 1, code));
        break;
      case 11:
        parts.push(wasmSection(11, passiveData(bytes, s)));
        break;
      default:
        parts.push(wasmSection(s.id, bytes.subarray(s.start, s.end)));
    }
  }
  const layout: PreparedLayout = {
    version: 1,
    memoryMinPages: facts.memoryMinPages,
    ...(facts.memoryMaxPages === undefined ? {} : { memoryMaxPages: facts.memoryMaxPages }),
    globals,
    dataSegments: facts.dataSegments.length,
    sourceSha256,
    entryGlobals,
  };
  const json = new TextEncoder().encode(JSON.stringify(layout));
  parts.push(wasmSection(0, concatBytes([new Uint8Array(wasmName(LAYOUT_SECTION)), json])));
  return concatBytes(parts);
}

/** The data section with every active segment turned passive, indices and bytes unchanged. */
function passiveData(bytes: Uint8Array, s: WasmSection): Uint8Array {
  const r = new WasmReader(bytes, s.start);
  const n = r.u32();
  const out: Uint8Array[] = [new Uint8Array(uleb128(n))];
  for (let i = 0; i < n; i++) {
    const flag = r.u32();
    if (flag === 2) r.u32();
    if (flag !== 1) r.skipConstExpr();
    const lenStart = r.pos;
    const len = r.u32();
    out.push(new Uint8Array([1]), bytes.subarray(lenStart, r.pos + len));
    r.skip(len);
  }
  return concatBytes(out);
}

/**
 * The restore-only variant of a prepared module: the same module with every (passive) data
 * segment emptied and `restoreOnly: true` in its layout. A restored instance never copies the
 * data segments in (the journal's image already holds that memory), so this variant restores
 * exactly like the full one, while it reads and compiles in about 40% of the time: for
 * ruby+stdlib.wasm, 12.0 MB instead of 30.8 MB, of which 18.8 MB are data segments. Booting
 * from scratch needs the full module ({@linkcode RubyInstance.boot} refuses this one).
 *
 * Segment indices, functions and everything else stay as they are, and so does the journal's
 * module identity (`sourceSha256`).
 *
 * @example
 * ```ts ignore
 * await Deno.writeFile("ruby.restore.wasm", restoreOnlyModule(prepared));
 * ```
 * @throws {WasmFormatError} if `prepared` was not prepared by {@linkcode prepareModule}.
 */
export function restoreOnlyModule(prepared: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [prepared.subarray(0, 8)];
  let layout: PreparedLayout | undefined;
  for (const s of wasmSections(prepared)) {
    if (s.id === 11) {
      parts.push(wasmSection(11, emptiedData(prepared, s)));
      continue;
    }
    if (s.id === 0) {
      const r = new WasmReader(prepared, s.start);
      const n = r.u32();
      if (new TextDecoder().decode(prepared.subarray(r.pos, r.pos + n)) === LAYOUT_SECTION) {
        layout = JSON.parse(new TextDecoder().decode(prepared.subarray(r.pos + n, s.end)));
        const json = new TextEncoder().encode(JSON.stringify({ ...layout, restoreOnly: true }));
        parts.push(wasmSection(0, concatBytes([Uint8Array.from(wasmName(LAYOUT_SECTION)), json])));
        continue;
      }
    }
    parts.push(prepared.subarray(s.headerStart, s.end));
  }
  if (layout === undefined) {
    throw new WasmFormatError(
      "Module was not prepared for Thaw's Ruby runner (no thaw.prepared section)",
      0,
    );
  }
  return concatBytes(parts);
}

/** A data section of passive segments with every segment's bytes dropped (count kept). */
function emptiedData(bytes: Uint8Array, s: WasmSection): Uint8Array {
  const r = new WasmReader(bytes, s.start);
  const n = r.u32();
  const out = new Uint8Array([...uleb128(n), ...new Array(n * 2).fill(0)]);
  let at = uleb128(n).length;
  for (let i = 0; i < n; i++) {
    const flag = r.u32();
    if (flag !== 1) {
      throw new WasmFormatError(`Data segment ${i} is not passive (flag ${flag})`, r.pos);
    }
    r.skip(r.u32());
    out[at++] = 1;
    out[at++] = 0;
  }
  return out;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Prepares ruby.wasm for restore, once, at deploy: the bytes to ship and compile everywhere.
 * Bytes that are already prepared come back as they are.
 *
 * @example
 * ```ts ignore
 * await Deno.writeFile("ruby.prepared.wasm", await prepareRubyModule(bytes));
 * ```
 */
export async function prepareRubyModule(bytes: Uint8Array): Promise<Uint8Array> {
  return isPrepared(bytes) ? bytes : prepareModule(bytes, await sha256Hex(bytes));
}
