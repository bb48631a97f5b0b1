/**
 * Thaw's one reader and writer of Wasm binaries at the section level (LEB128, sections, limits,
 * constant expressions), and the small rewrites built on it: the snapshot engine's restore-time
 * variants of a prepared module, and the Ruby runner's module preparation and compilation hints.
 * They avoid a full binaryen parse, which takes seconds (about 4.5 s for ruby+stdlib.wasm) on a
 * 30 MB module. It imports nothing, so an instance Worker can load it without the snapshot engine.
 *
 * Binary format: https://webassembly.github.io/spec/core/binary/modules.html
 * @module
 */

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const SECTION_DATA = 11;

/** A section of a module: its id, where its header starts and the byte range of its payload. */
export interface WasmSection {
  /** Section id (0 custom, 1 type, 2 import, ...). */
  readonly id: number;
  /** Offset of the section id byte. */
  readonly headerStart: number;
  /** Offset of the first payload byte. */
  readonly start: number;
  /** Offset just past the payload. */
  readonly end: number;
}

/** Thrown when the bytes are not a Wasm module this code can read or rewrite. */
export class WasmFormatError extends Error {
  /** Byte offset where parsing failed. */
  readonly offset: number;
  /** Creates the error for `message` at byte `offset`. */
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}; the module is malformed, rebuild it`);
    this.name = "WasmFormatError";
    this.offset = offset;
  }
}

/**
 * A cursor over a Wasm binary: bytes, LEB128 integers, limits and constant expressions. Reading
 * past the end throws {@link WasmFormatError}.
 *
 * @example
 * ```ts
 * const r = new WasmReader(Uint8Array.of(0xe5, 0x8e, 0x26));
 * console.log(r.u32()); // 624485
 * ```
 */
export class WasmReader {
  /** The next byte to read. */
  pos: number;
  /** Reads `bytes` from `pos`. */
  constructor(readonly bytes: Uint8Array, pos = 0) {
    this.pos = pos;
  }
  /** One byte. */
  u8(): number {
    if (this.pos >= this.bytes.length) throw new WasmFormatError("Unexpected end", this.pos);
    return this.bytes[this.pos++];
  }
  /** An unsigned LEB128 of up to 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new WasmFormatError("LEB128 too long", this.pos);
    }
  }
  /** A signed LEB128 of up to 32 bits. */
  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.u8();
      if (shift > 28) throw new WasmFormatError("LEB128 too long", this.pos);
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 32 && (b & 0x40)) result |= -1 << shift;
    return result;
  }
  /** Skips a signed or unsigned LEB128. */
  skipLeb(): void {
    while (this.u8() & 0x80) { /* continuation */ }
  }
  /** Skips `n` bytes. */
  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.bytes.length) throw new WasmFormatError("Unexpected end", this.pos);
  }
  /** Memory or table limits. */
  limits(): { min: number; max: number | undefined; flags: number } {
    const flags = this.u8();
    const min = this.u32();
    const max = flags & 1 ? this.u32() : undefined;
    return { min, max, flags };
  }
  /** Skips a constant expression up to and including its final `end` opcode. */
  skipConstExpr(): void {
    for (;;) {
      const op = this.u8();
      switch (op) {
        case 0x0b:
          return;
        case 0x41: // i32.const
        case 0x42: // i64.const
        case 0x23: // global.get
        case 0xd2: // ref.func
          this.skipLeb();
          break;
        case 0x43:
          this.skip(4);
          break;
        case 0x44:
          this.skip(8);
          break;
        case 0xd0: // ref.null heaptype
          this.skipLeb();
          break;
        case 0x6a: // extended-const i32.add/sub/mul, i64.add/sub/mul
        case 0x6b:
        case 0x6c:
        case 0x7c:
        case 0x7d:
        case 0x7e:
          break;
        default:
          throw new WasmFormatError(
            `Unsupported opcode 0x${op.toString(16)} in constant`,
            this.pos,
          );
      }
    }
  }
}

/**
 * The unsigned LEB128 encoding of `n`.
 *
 * @example
 * ```ts
 * console.log(uleb128(624485)); // [0xe5, 0x8e, 0x26]
 * ```
 */
export function uleb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/**
 * The signed LEB128 encoding of the 32-bit integer `n`.
 *
 * @example
 * ```ts
 * console.log(sleb128(-1)); // [0x7f]
 * ```
 */
export function sleb128(n: number): number[] {
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

/** A Wasm name: its UTF-8 length as LEB128, then its bytes. */
export function wasmName(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...uleb128(b.length), ...b];
}

/**
 * The sections of a module, in order.
 *
 * @throws {WasmFormatError} when the bytes are not a core Wasm module (magic, version) or a section
 * runs past the end.
 * @example
 * ```ts
 * const ids = wasmSections(Deno.readFileSync("app.wasm")).map((s) => s.id);
 * ```
 */
export function wasmSections(bytes: Uint8Array): WasmSection[] {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) {
    throw new WasmFormatError("Not a WebAssembly core module (bad \\0asm magic or version)", 0);
  }
  const r = new WasmReader(bytes, 8);
  const out: WasmSection[] = [];
  while (r.pos < bytes.length) {
    const headerStart = r.pos;
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    out.push({ id, headerStart, start, end: start + size });
  }
  return out;
}

/** A whole section: id, payload size as LEB128, payload. */
export function wasmSection(id: number, payload: Uint8Array | number[]): Uint8Array {
  const size = uleb128(payload.length);
  const out = new Uint8Array(1 + size.length + payload.length);
  out[0] = id;
  out.set(size, 1);
  out.set(payload, 1 + size.length);
  return out;
}

/**
 * A vector section (types, imports, memories, exports, code, ...) rewritten with `extraCount`
 * more items: its own items as they are, then `extra` (the new items' encoding).
 *
 * @example
 * ```ts ignore
 * const exports = appendToVector(bytes, exportSection, 1, Uint8Array.of(...wasmName("f"), 0, 3));
 * ```
 */
export function appendToVector(
  bytes: Uint8Array,
  s: WasmSection,
  extraCount: number,
  extra: Uint8Array,
): Uint8Array {
  const r = new WasmReader(bytes, s.start);
  const n = r.u32();
  return wasmSection(
    s.id,
    concatBytes([Uint8Array.from(uleb128(n + extraCount)), bytes.subarray(r.pos, s.end), extra]),
  );
}

/** The parts, one after the other, in one new buffer. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Rebuilds the module with some sections' payloads replaced (or inserted before `before`). */
function rebuild(
  bytes: Uint8Array,
  replace: Map<WasmSection, Uint8Array | null>,
  insert?: { before: (s: WasmSection) => boolean; section: Uint8Array },
): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let inserted = insert === undefined;
  for (const s of wasmSections(bytes)) {
    if (!inserted && insert!.before(s)) {
      parts.push(insert!.section);
      inserted = true;
    }
    const key = [...replace.keys()].find((k) => k.headerStart === s.headerStart);
    if (key !== undefined) {
      const payload = replace.get(key)!;
      if (payload !== null) parts.push(wasmSection(s.id, payload));
      continue;
    }
    parts.push(bytes.subarray(s.headerStart, s.end));
  }
  if (!inserted) parts.push(insert!.section);
  return concatBytes(parts);
}

/**
 * Empties every active data segment, keeping segment indices (and so `memory.init`/`data.drop` of
 * passive segments) intact. The result instantiates onto all-zero memory.
 *
 * @example
 * ```ts
 * const small = dropActiveData(Deno.readFileSync("app.wasm"));
 * ```
 */
export function dropActiveData(bytes: Uint8Array): Uint8Array {
  const data = wasmSections(bytes).find((s) => s.id === SECTION_DATA);
  if (data === undefined) return bytes;
  const r = new WasmReader(bytes, data.start);
  const count = r.u32();
  const out: number[] = uleb128(count);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const flagStart = r.pos;
    const flag = r.u32();
    if (flag === 1) {
      const len = r.u32();
      r.skip(len);
      chunks.push(Uint8Array.from(out.splice(0)));
      chunks.push(bytes.subarray(flagStart, r.pos));
      continue;
    }
    if (flag !== 0 && flag !== 2) {
      throw new WasmFormatError(`Unknown data segment flag ${flag}`, flagStart);
    }
    if (flag === 2) r.u32();
    r.skipConstExpr();
    const headerEnd = r.pos;
    const len = r.u32();
    r.skip(len);
    chunks.push(Uint8Array.from(out.splice(0)));
    chunks.push(bytes.subarray(flagStart, headerEnd));
    chunks.push(Uint8Array.of(0));
  }
  if (r.pos !== data.end) throw new WasmFormatError("Data section size mismatch", r.pos);
  chunks.push(Uint8Array.from(out));
  return rebuild(bytes, new Map([[data, concatBytes(chunks)]]));
}

/** How many imports of each kind a module has (the start of each index space). */
export interface ImportCounts {
  readonly funcs: number;
  readonly tables: number;
  readonly memories: number;
  readonly globals: number;
  readonly tags: number;
}

/**
 * Counts the module's imports by kind: the number of imported functions is where its own
 * functions' indices start, and so on for each index space.
 *
 * @throws {WasmFormatError} for an unknown import kind or a truncated section.
 * @example
 * ```ts ignore
 * const { funcs } = importCounts(bytes); // the first defined function's index
 * ```
 */
export function importCounts(bytes: Uint8Array): ImportCounts {
  const counts = { funcs: 0, tables: 0, memories: 0, globals: 0, tags: 0 };
  const s = wasmSections(bytes).find((x) => x.id === SECTION_IMPORT);
  if (s === undefined) return counts;
  const r = new WasmReader(bytes, s.start);
  for (let n = r.u32(); n > 0; n--) {
    r.skip(r.u32());
    r.skip(r.u32());
    const kind = r.u8();
    if (kind === 0) {
      r.u32();
      counts.funcs++;
    } else if (kind === 1) {
      skipValueType(r);
      r.limits();
      counts.tables++;
    } else if (kind === 2) {
      r.limits();
      counts.memories++;
    } else if (kind === 3) {
      skipValueType(r);
      r.u8();
      counts.globals++;
    } else if (kind === 4) {
      r.u8();
      r.u32();
      counts.tags++;
    } else throw new WasmFormatError(`Unknown import kind ${kind}`, r.pos - 1);
  }
  return counts;
}

/** Skips a value type: one byte, or a reference type prefix followed by its heap type. */
export function skipValueType(r: WasmReader): void {
  const t = r.u8();
  if (t === 0x63 || t === 0x64) r.skipLeb();
}

/**
 * Turns the module's first defined memory (index 0) into an import `module.name`, with the same
 * limits, so the host can hand in a memory it prepared (pre-faulted, already filled).
 *
 * @throws {WasmFormatError} when memory 0 is already imported or the module has no memory.
 * @example
 * ```ts
 * const variant = importMemory(bytes, "thaw", "memory");
 * ```
 */
export function importMemory(bytes: Uint8Array, module: string, name: string): Uint8Array {
  const all = wasmSections(bytes);
  const imports = all.find((s) => s.id === SECTION_IMPORT);
  const memory = all.find((s) => s.id === SECTION_MEMORY);
  if (memory === undefined) throw new WasmFormatError("The module defines no memory", 0);
  if (importCounts(bytes).memories > 0) {
    throw new WasmFormatError("Memory 0 is already imported", imports!.start);
  }
  const mr = new WasmReader(bytes, memory.start);
  const count = mr.u32();
  const limitsStart = mr.pos;
  skipLimits(mr);
  const memType = bytes.subarray(limitsStart, mr.pos);
  const rest = bytes.subarray(mr.pos, memory.end);
  const enc = new TextEncoder();
  const mod = enc.encode(module);
  const nm = enc.encode(name);
  const entry = concatBytes([
    Uint8Array.from(uleb128(mod.length)),
    mod,
    Uint8Array.from(uleb128(nm.length)),
    nm,
    Uint8Array.of(2),
    memType,
  ]);
  const replace = new Map<WasmSection, Uint8Array | null>();
  replace.set(
    memory,
    count === 1 ? null : concatBytes([Uint8Array.from(uleb128(count - 1)), rest]),
  );
  if (imports !== undefined) {
    const r = new WasmReader(bytes, imports.start);
    const n = r.u32();
    // Appending keeps the memory the first (index 0) imported memory: no other memory is imported.
    replace.set(
      imports,
      concatBytes([Uint8Array.from(uleb128(n + 1)), bytes.subarray(r.pos, imports.end), entry]),
    );
    return rebuild(bytes, replace);
  }
  const section = wasmSection(SECTION_IMPORT, concatBytes([Uint8Array.of(1), entry]));
  return rebuild(bytes, replace, { before: (s) => s.id !== 0 && s.id > SECTION_IMPORT, section });
}

function skipLimits(r: WasmReader): void {
  r.limits();
}
