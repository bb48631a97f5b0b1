/** Schema-driven payload encoding and decoding (see RECORD_SCHEMAS). */

import { ByteReader, ByteWriter, PayloadProblem, utf8 } from "./_bytes.ts";
import {
  CODEC_IDS,
  FD_KINDS,
  type FieldType,
  GLOBAL_TYPES,
  type GlobalValue,
  type JournalRecord,
  type KnownKind,
  type MemoryCodec,
  RECORD_SCHEMAS,
} from "./records.ts";

const CODEC_BY_ID: readonly MemoryCodec[] = (Object.keys(CODEC_IDS) as MemoryCodec[])
  .sort((a, b) => CODEC_IDS[a] - CODEC_IDS[b]);
const MAX_U53 = Number.MAX_SAFE_INTEGER;

function problem(kind: string, name: string, detail: string): PayloadProblem {
  return new PayloadProblem(`Field ${kind}.${name} ${detail}`);
}

function checkInt(kind: string, name: string, v: unknown, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw problem(kind, name, `must be an integer in [0, ${max}], got ${String(v)}`);
  }
  return v;
}

function checkU64(kind: string, name: string, v: unknown): bigint {
  if (typeof v !== "bigint" || v < 0n || v > 0xffff_ffff_ffff_ffffn) {
    throw problem(kind, name, `must be a bigint in [0, 2^64), got ${String(v)}`);
  }
  return v;
}

function writeField(w: ByteWriter, kind: string, name: string, type: FieldType, v: unknown): void {
  switch (type) {
    case "u8":
      return w.u8(checkInt(kind, name, v, 0xff));
    case "u16":
      return w.u16(checkInt(kind, name, v, 0xffff));
    case "u32":
      return w.u32(checkInt(kind, name, v, 0xffff_ffff));
    case "u53":
      return w.u64(BigInt(checkInt(kind, name, v, MAX_U53)));
    case "u64":
      return w.u64(checkU64(kind, name, v));
    case "bool":
      if (typeof v !== "boolean") throw problem(kind, name, "must be a boolean");
      return w.u8(v ? 1 : 0);
    case "str": {
      if (typeof v !== "string") throw problem(kind, name, "must be a string");
      const b = utf8(v);
      w.u32(b.length);
      return w.bytes(b);
    }
    case "bytes":
      if (!(v instanceof Uint8Array)) throw problem(kind, name, "must be a Uint8Array");
      w.u32(v.length);
      return w.bytes(v);
    case "strs":
      if (!Array.isArray(v)) throw problem(kind, name, "must be an array of strings");
      w.u32(v.length);
      for (const s of v) writeField(w, kind, name, "str", s);
      return;
    case "codec": {
      const id = CODEC_IDS[v as MemoryCodec];
      if (id === undefined) throw problem(kind, name, `is not a known codec: ${String(v)}`);
      return w.u8(id);
    }
    case "fdkind": {
      const id = FD_KINDS.indexOf(v as typeof FD_KINDS[number]);
      if (id < 0) throw problem(kind, name, `is not a known fd kind: ${String(v)}`);
      return w.u8(id);
    }
    case "globals": {
      if (!Array.isArray(v)) throw problem(kind, name, "must be an array of globals");
      w.u32(v.length);
      for (const g of v as GlobalValue[]) {
        w.u32(checkInt(kind, `${name}.index`, g.index, 0xffff_ffff));
        const t = GLOBAL_TYPES.indexOf(g.type);
        if (t < 0) throw problem(kind, `${name}.type`, `is not a value type: ${String(g.type)}`);
        w.u8(t);
        if (g.type === "i64") {
          if (typeof g.value !== "bigint") throw problem(kind, name, "i64 value must be a bigint");
          w.i64(BigInt.asIntN(64, g.value));
        } else if (typeof g.value !== "number") {
          throw problem(kind, name, `${g.type} value must be a number`);
        } else if (g.type === "i32") {
          w.i32(g.value | 0);
          w.u32(0);
        } else if (g.type === "f32") {
          w.f32(g.value);
          w.u32(0);
        } else {
          w.f64(g.value);
        }
      }
      return;
    }
  }
}

/**
 * Encodes the payload of a known record.
 *
 * @throws {PayloadProblem} when a field has the wrong type or range.
 */
export function encodePayload(record: Exclude<JournalRecord, { kind: "unknown" }>): Uint8Array {
  const schema = RECORD_SCHEMAS[record.kind];
  if (schema === undefined) throw new PayloadProblem(`Unknown record kind "${record.kind}"`);
  let hint = 64;
  const fields = record as unknown as Record<string, unknown>;
  for (const [name, type] of schema.fields) {
    const v = fields[name];
    if (type === "bytes" && v instanceof Uint8Array) hint += v.length;
  }
  const w = new ByteWriter(hint);
  for (const [name, type] of schema.fields) writeField(w, record.kind, name, type, fields[name]);
  return w.finish();
}

function readField(r: ByteReader, kind: string, name: string, type: FieldType): unknown {
  const what = `${kind}.${name}`;
  switch (type) {
    case "u8":
      return r.u8(what);
    case "u16":
      return r.u16(what);
    case "u32":
      return r.u32(what);
    case "u53": {
      const v = r.u64(what);
      if (v > BigInt(MAX_U53)) throw problem(kind, name, `exceeds 2^53 - 1: ${v}`);
      return Number(v);
    }
    case "u64":
      return r.u64(what);
    case "bool": {
      const v = r.u8(what);
      if (v > 1) throw problem(kind, name, `must be 0 or 1, got ${v}`);
      return v === 1;
    }
    case "str":
      return r.str(r.u32(what), what);
    case "bytes":
      return r.bytes(r.u32(what), what);
    case "strs": {
      const n = r.u32(what);
      // Each string takes at least 4 bytes, so a count beyond that cannot be honest.
      if (n > r.remaining / 4) throw problem(kind, name, `count ${n} exceeds the payload`);
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(r.str(r.u32(what), what));
      return out;
    }
    case "codec": {
      const id = r.u8(what);
      const c = CODEC_BY_ID[id];
      if (c === undefined) throw problem(kind, name, `has unknown codec id ${id}`);
      return c;
    }
    case "fdkind": {
      const id = r.u8(what);
      const k = FD_KINDS[id];
      if (k === undefined) throw problem(kind, name, `has unknown fd kind id ${id}`);
      return k;
    }
    case "globals": {
      const n = r.u32(what);
      if (n > r.remaining / 13) throw problem(kind, name, `count ${n} exceeds the payload`);
      const out: GlobalValue[] = [];
      for (let i = 0; i < n; i++) {
        const index = r.u32(what);
        const t = r.u8(what);
        const type = GLOBAL_TYPES[t];
        if (type === undefined) throw problem(kind, name, `has unknown value type id ${t}`);
        if (type === "i64") out.push({ index, type, value: r.i64(what) });
        else if (type === "f64") out.push({ index, type, value: r.f64(what) });
        else {
          const value = type === "i32" ? r.i32(what) : r.f32(what);
          if (r.u32(what) !== 0) throw problem(kind, name, "has non-zero padding");
          out.push({ index, type, value });
        }
      }
      return out;
    }
  }
}

/**
 * Decodes the payload of a known kind. Byte fields are views into `payload`, not copies.
 *
 * @throws {PayloadProblem} when the payload is short, long, or holds an invalid value.
 */
export function decodePayload(kind: KnownKind, payload: Uint8Array): JournalRecord {
  const r = new ByteReader(payload);
  const out: Record<string, unknown> = { kind };
  for (const [name, type] of RECORD_SCHEMAS[kind].fields) {
    out[name] = readField(r, kind, name, type);
  }
  if (r.remaining !== 0) {
    throw new PayloadProblem(`Payload of ${kind} has ${r.remaining} trailing bytes`);
  }
  return out as unknown as JournalRecord;
}

/**
 * Decodes what a payload prefix holds, for listings: byte fields become `{ length }` and fields
 * past the prefix are left out. No checksum is involved; never use the result to restore.
 */
export function summarizePayload(kind: KnownKind, prefix: Uint8Array): Record<string, unknown> {
  const r = new ByteReader(prefix);
  const out: Record<string, unknown> = { kind };
  try {
    for (const [name, type] of RECORD_SCHEMAS[kind].fields) {
      if (type === "bytes") {
        const n = r.u32(name);
        out[name] = { length: n };
        if (n > r.remaining) break;
        r.bytes(n, name);
      } else {
        out[name] = readField(r, kind, name, type);
      }
    }
  } catch (e) {
    if (!(e instanceof PayloadProblem)) throw e;
  }
  return out;
}
