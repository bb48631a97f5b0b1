/**
 * Section-level reading and rewriting of a core WebAssembly binary, just enough to prepare
 * ruby.wasm for restore: list the active data segments, and emit a module that imports its
 * memory, keeps its data segments passive (copied in only by an added `thaw_init_data` export)
 * and exports its mutable globals.
 *
 * Working on sections (not on a full IR) keeps this at tens of milliseconds for the 30 MB
 * ruby+stdlib.wasm, where a binaryen read takes about 4.5 s.
 *
 * @module
 */

/** One section of a module: its id and the byte range of its payload. */
interface Section {
  readonly id: number;
  /** Offset of the section id byte. */
  readonly start: number;
  /** Offset of the first payload byte. */
  readonly payload: number;
  /** Offset just past the payload. */
  readonly end: number;
}

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

/** Thrown when the binary is not a module this rewriter can handle. */
export class WasmFormatError extends Error {
  /** Byte offset where decoding failed. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = "WasmFormatError";
    this.offset = offset;
  }
}

class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, pos = 0) {
    this.pos = pos;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) {
      throw new WasmFormatError("Unexpected end of module", this.pos);
    }
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new WasmFormatError("LEB128 too long", this.pos);
    }
  }
  i32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 32 && (b & 0x40)) result |= -1 << shift;
    return result;
  }
  skip(n: number): void {
    this.pos += n;
  }
  limits(): { min: number; max: number | undefined; flags: number } {
    const flags = this.byte();
    const min = this.u32();
    const max = flags & 1 ? this.u32() : undefined;
    return { min, max, flags };
  }
  /** Skips a constant expression up to and including its `end` opcode. */
  constExpr(): void {
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return;
      if (op === 0x41 || op === 0x23) this.i32();
      else if (op === 0x42) this.i32(); // i64 fits the skip logic: we only need its length
      else if (op === 0x43) this.skip(4);
      else if (op === 0x44) this.skip(8);
      else if (op === 0xd0) this.byte();
      else if (op === 0xd2) this.u32();
      else throw new WasmFormatError(`Unsupported constant opcode 0x${op.toString(16)}`, this.pos);
    }
  }
}

function sections(bytes: Uint8Array): Section[] {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) {
    throw new WasmFormatError("Not a WebAssembly core module (bad magic or version)", 0);
  }
  const r = new Reader(bytes, 8);
  const out: Section[] = [];
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const payload = r.pos;
    const end = payload + size;
    if (end > bytes.length) throw new WasmFormatError("Section runs past the end", start);
    out.push({ id, start, payload, end });
    r.pos = end;
  }
  return out;
}

function importCounts(
  bytes: Uint8Array,
  s: Section | undefined,
): { funcs: number; globals: number } {
  if (!s) return { funcs: 0, globals: 0 };
  const r = new Reader(bytes, s.payload);
  let globals = 0;
  let funcs = 0;
  for (let n = r.u32(); n > 0; n--) {
    r.skip(r.u32());
    r.skip(r.u32());
    const kind = r.byte();
    if (kind === 0) {
      r.u32();
      funcs++;
    } else if (kind === 1) {
      r.byte();
      r.limits();
    } else if (kind === 2) r.limits();
    else if (kind === 3) {
      r.byte();
      r.byte();
      globals++;
    } else if (kind === 4) {
      r.byte();
      r.u32();
    } else throw new WasmFormatError(`Unknown import kind ${kind}`, r.pos);
  }
  return { funcs, globals };
}

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
  const secs = sections(bytes);
  const byId = (id: number) => secs.find((s) => s.id === id);
  const mem = byId(5);
  if (!mem) throw new WasmFormatError("Module defines no memory of its own", 0);
  const mr = new Reader(bytes, mem.payload);
  if (mr.u32() !== 1) throw new WasmFormatError("Expected exactly one memory", mem.payload);
  const limits = mr.limits();

  const globalsBase = importCounts(bytes, byId(2)).globals;
  const mutableGlobals: { index: number; type: number }[] = [];
  const gs = byId(6);
  if (gs) {
    const r = new Reader(bytes, gs.payload);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const type = r.byte();
      const mutable = r.byte() === 1;
      r.constExpr();
      if (mutable) mutableGlobals.push({ index: globalsBase + i, type });
    }
  }

  const dataSegments: DataSegment[] = [];
  const ds = byId(11);
  if (ds) {
    const r = new Reader(bytes, ds.payload);
    const count = r.u32();
    for (let index = 0; index < count; index++) {
      const flag = r.u32();
      if (flag === 1) {
        r.skip(r.u32());
        continue; // passive: not part of the initial image
      }
      if (flag === 2) r.u32();
      if (r.byte() !== 0x41) throw new WasmFormatError("Data offset is not i32.const", r.pos);
      const offset = r.i32() >>> 0;
      if (r.byte() !== 0x0b) throw new WasmFormatError("Data offset is not constant", r.pos);
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

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function name(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...leb(b.length), ...b];
}

function section(id: number, payload: Uint8Array): Uint8Array {
  const head = [id, ...leb(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
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

/** True if the bytes already carry a `thaw.prepared` section (a cheap scan of section heads). */
export function isPrepared(bytes: Uint8Array): boolean {
  for (const s of sections(bytes)) {
    if (s.id !== 0) continue;
    const r = new Reader(bytes, s.payload);
    const n = r.u32();
    if (new TextDecoder().decode(bytes.subarray(r.pos, r.pos + n)) === LAYOUT_SECTION) return true;
  }
  return false;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Rewrites a vector section: keeps its items and appends `extra` items. */
function appendToVector(bytes: Uint8Array, s: Section, extraCount: number, extra: Uint8Array) {
  const r = new Reader(bytes, s.payload);
  const n = r.u32();
  return section(
    s.id,
    concat([new Uint8Array(leb(n + extraCount)), bytes.subarray(r.pos, s.end), extra]),
  );
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
  const secs = sections(bytes);
  const byId = (id: number) => secs.find((x) => x.id === id);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  const mem = byId(5)!;
  const mr = new Reader(bytes, mem.payload);
  mr.u32();
  const limitsStart = mr.pos;
  mr.limits();
  const memImport = new Uint8Array([
    ...name(MEMORY_IMPORT.module),
    ...name(MEMORY_IMPORT.name),
    0x02,
    ...bytes.subarray(limitsStart, mr.pos),
  ]);
  const imports = importCounts(bytes, byId(2));
  const count = (id: number) => byId(id) ? new Reader(bytes, byId(id)!.payload).u32() : 0;
  const typeCount = count(1);
  const funcCount = count(3);
  const initFunc = imports.funcs + funcCount;

  const body: number[] = [0];
  for (const seg of facts.dataSegments) {
    body.push(0x41, ...sleb(seg.offset | 0), 0x41, 0, 0x41, ...sleb(seg.bytes.length | 0));
    body.push(0xfc, 0x08, ...leb(seg.index), 0x00, 0xfc, 0x09, ...leb(seg.index));
  }
  body.push(0x0b);
  const code = new Uint8Array([...leb(body.length), ...body]);
  const dataCount = count(11);

  for (const id of [1, 2, 3, 7, 10, 11]) {
    if (!byId(id)) {
      throw new WasmFormatError(`Module lacks section ${id}; it does not look like ruby.wasm`, 8);
    }
  }
  for (const s of secs) {
    // memory.init needs a data count section, which must come just before the code section.
    if (s.id === 10 && !byId(12)) parts.push(section(12, new Uint8Array(leb(dataCount))));
    switch (s.id) {
      case 1:
        parts.push(appendToVector(bytes, s, 1, new Uint8Array([0x60, 0, 0])));
        break;
      case 2:
        parts.push(appendToVector(bytes, s, 1, memImport));
        break;
      case 3:
        parts.push(appendToVector(bytes, s, 1, new Uint8Array(leb(typeCount))));
        break;
      case 5:
        break;
      case 7: {
        const extra: number[] = [...name(INIT_DATA_EXPORT), 0x00, ...leb(initFunc)];
        for (const g of facts.mutableGlobals) {
          extra.push(...name(GLOBAL_EXPORT_PREFIX + g.index), 0x03, ...leb(g.index));
        }
        parts.push(
          appendToVector(bytes, s, 1 + facts.mutableGlobals.length, new Uint8Array(extra)),
        );
        break;
      }
      case 10:
        parts.push(appendToVector(bytes, s, 1, code));
        break;
      case 11:
        parts.push(section(11, passiveData(bytes, s)));
        break;
      default:
        parts.push(section(s.id, bytes.subarray(s.payload, s.end)));
    }
  }
  const layout: PreparedLayout = {
    version: 1,
    memoryMinPages: facts.memoryMinPages,
    ...(facts.memoryMaxPages === undefined ? {} : { memoryMaxPages: facts.memoryMaxPages }),
    globals: facts.mutableGlobals,
    dataSegments: facts.dataSegments.length,
    sourceSha256,
  };
  const json = new TextEncoder().encode(JSON.stringify(layout));
  parts.push(section(0, concat([new Uint8Array(name(LAYOUT_SECTION)), json])));
  return concat(parts);
}

/** The data section with every active segment turned passive, indices and bytes unchanged. */
function passiveData(bytes: Uint8Array, s: Section): Uint8Array {
  const r = new Reader(bytes, s.payload);
  const n = r.u32();
  const out: Uint8Array[] = [new Uint8Array(leb(n))];
  for (let i = 0; i < n; i++) {
    const flag = r.u32();
    if (flag === 2) r.u32();
    if (flag !== 1) r.constExpr();
    const lenStart = r.pos;
    const len = r.u32();
    out.push(new Uint8Array([1]), bytes.subarray(lenStart, r.pos + len));
    r.skip(len);
  }
  return concat(out);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
