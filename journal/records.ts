/**
 * Journal records: plain, readonly, typed data.
 *
 * Every record is a readonly object whose `kind` names it. Each kind has a frozen numeric tag and a
 * version (see {@link RECORD_TAGS} and journal/FORMAT.md); the binary layout of each kind is given
 * by {@link RECORD_SCHEMAS}, which both the encoder and the decoder follow, so the two cannot drift.
 *
 * @module
 */

/** Names of the memory codecs a memory run can use. Numeric ids are frozen in {@link CODEC_IDS}. */
export type MemoryCodec = "none" | "zstd" | "lz4" | "zero";

/** Frozen numeric ids of the memory codecs, as stored in a `memory.run` payload. */
export const CODEC_IDS: Readonly<Record<MemoryCodec, number>> = Object.freeze({
  none: 0,
  zstd: 1,
  lz4: 2,
  zero: 3,
});

/** What an open fd refers to. Numeric ids are the index in this list (frozen). */
export const FD_KINDS = Object.freeze(
  [
    "file",
    "directory",
    "preopen",
    "stdin",
    "stdout",
    "stderr",
    "pipe",
    "socket",
    "eventfd",
    "other",
  ] as const,
);
/** What an open fd refers to. */
export type FdKind = typeof FD_KINDS[number];

/** Wasm value types a global can hold. Numeric ids are the index in this list (frozen). */
export const GLOBAL_TYPES = Object.freeze(["i32", "i64", "f32", "f64"] as const);
/** Wasm value type of a global. */
export type GlobalType = typeof GLOBAL_TYPES[number];

/** One mutable global's value. `i64` values are bigints, the others numbers. */
export type GlobalValue =
  | { readonly index: number; readonly type: "i32" | "f32" | "f64"; readonly value: number }
  | { readonly index: number; readonly type: "i64"; readonly value: bigint };

/** Identity of what the journal belongs to: restore refuses a journal whose hashes differ. */
export interface IdentityRecord {
  readonly kind: "identity";
  /** Hash (SHA-256) of the prepared module the journal was captured from. */
  readonly moduleHash: Uint8Array;
  /** Hash (SHA-256) of the app configuration the journal was captured with. */
  readonly configHash: Uint8Array;
  /** Journal format version the writer followed. */
  readonly formatVersion: number;
  /** Thaw version that wrote the journal, e.g. `"0.1.0"`. */
  readonly thawVersion: string;
}

/** Size of one linear memory, in 64 KiB Wasm pages. */
export interface MemorySizeRecord {
  readonly kind: "memory.size";
  readonly memoryIndex: number;
  readonly pages: number;
}

/**
 * A contiguous run of linear memory bytes, `[offset, offset + byteLength)`, stored compressed with
 * `codec`. Bytes outside every run are zero (or unchanged from the previous snapshot).
 */
export interface MemoryRunRecord {
  readonly kind: "memory.run";
  readonly memoryIndex: number;
  readonly offset: number;
  /** Uncompressed length in bytes. */
  readonly byteLength: number;
  readonly codec: MemoryCodec;
  /** Compressed bytes (empty for codec `zero`). */
  readonly data: Uint8Array;
}

/** The values of the module's mutable globals. */
export interface GlobalsRecord {
  readonly kind: "globals";
  readonly globals: readonly GlobalValue[];
}

/** Per-thread state: the asyncify rewind data and the shadow stack. */
export interface ThreadStateRecord {
  readonly kind: "thread.state";
  readonly threadId: number;
  /** The export that was running when the thread unwound (e.g. `"_start"`). */
  readonly entry: string;
  /** Guest address of the asyncify data structure. */
  readonly asyncifyDataAddress: number;
  /** The asyncify rewind data (the unwound call stack), as the guest laid it out. */
  readonly rewindData: Uint8Array;
  /** Shadow stack pointer value. */
  readonly stackPointer: number;
  /** Lowest address of the shadow stack. */
  readonly stackLow: number;
  /** One past the highest address of the shadow stack. */
  readonly stackHigh: number;
  /** Shadow stack bytes `[stackPointer, stackHigh)`, empty when the memory runs hold them. */
  readonly stack: Uint8Array;
}

/** An fd was opened. */
export interface FdOpenRecord {
  readonly kind: "fd.open";
  readonly fd: number;
  readonly fdKind: FdKind;
  /** Guest path of the file or directory, empty for stdio, pipes and sockets. */
  readonly path: string;
  readonly oflags: number;
  readonly fdflags: number;
  readonly rightsBase: bigint;
  readonly rightsInheriting: bigint;
}

/** An fd was closed. */
export interface FdCloseRecord {
  readonly kind: "fd.close";
  readonly fd: number;
}

/** An fd's position moved; `offset` is the absolute position after the move. */
export interface FdSeekRecord {
  readonly kind: "fd.seek";
  readonly fd: number;
  readonly offset: number;
}

/** `fd_renumber(from, to)`: `to` is closed if open, then `from` moves to `to`. */
export interface FdRenumberRecord {
  readonly kind: "fd.renumber";
  readonly from: number;
  readonly to: number;
}

/** `fd` was duplicated as `newFd`, sharing its open file description. */
export interface FdDupRecord {
  readonly kind: "fd.dup";
  readonly fd: number;
  readonly newFd: number;
}

/** An fd's flags (`fdflags`) changed. */
export interface FdSetFlagsRecord {
  readonly kind: "fd.set_flags";
  readonly fd: number;
  readonly fdflags: number;
}

/** Bytes written to a file at `offset`. Creates the file when absent. */
export interface FsWriteRecord {
  readonly kind: "fs.write";
  readonly path: string;
  readonly offset: number;
  readonly data: Uint8Array;
}

/** A file's size was set. Creates the file when absent. */
export interface FsTruncateRecord {
  readonly kind: "fs.truncate";
  readonly path: string;
  readonly size: number;
}

/** A directory was created. */
export interface FsMkdirRecord {
  readonly kind: "fs.mkdir";
  readonly path: string;
}

/** A directory was removed. */
export interface FsRmdirRecord {
  readonly kind: "fs.rmdir";
  readonly path: string;
}

/** A file or symlink was removed. */
export interface FsUnlinkRecord {
  readonly kind: "fs.unlink";
  readonly path: string;
}

/** A path was renamed. */
export interface FsRenameRecord {
  readonly kind: "fs.rename";
  readonly from: string;
  readonly to: string;
}

/** A hard link `to` was made to the existing file `from`. */
export interface FsLinkRecord {
  readonly kind: "fs.link";
  readonly from: string;
  readonly to: string;
}

/** A symlink at `path` pointing to `target` was made. */
export interface FsSymlinkRecord {
  readonly kind: "fs.symlink";
  readonly target: string;
  readonly path: string;
}

/** A path's access and modification times were set (nanoseconds since the epoch). */
export interface FsSetTimesRecord {
  readonly kind: "fs.set_times";
  readonly path: string;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
}

/** A socket was opened as `fd`. */
export interface SockOpenRecord {
  readonly kind: "sock.open";
  readonly fd: number;
  /** Address family: 1 = IPv4, 2 = IPv6, 3 = Unix (WASIX numbering). */
  readonly family: number;
  /** Socket type: 1 = stream, 2 = datagram (WASIX numbering). */
  readonly sockType: number;
  readonly protocol: number;
}

/** A socket was bound to `address` (`"host:port"`, or a path for Unix sockets). */
export interface SockBindRecord {
  readonly kind: "sock.bind";
  readonly fd: number;
  readonly address: string;
}

/** A bound socket started listening. */
export interface SockListenRecord {
  readonly kind: "sock.listen";
  readonly fd: number;
  readonly backlog: number;
}

/**
 * A connected (or accepted) socket. Its peer lives outside the guest, so it cannot be restored;
 * restore reports it and gives the guest a closed socket.
 */
export interface SockConnectedRecord {
  readonly kind: "sock.connected";
  readonly fd: number;
  readonly peer: string;
  readonly accepted: boolean;
}

/** Random bytes the guest drew during boot. */
export interface FactRandomRecord {
  readonly kind: "fact.random";
  readonly bytes: Uint8Array;
}

/** A clock read by the guest during boot. */
export interface FactClockRecord {
  readonly kind: "fact.clock";
  readonly clockId: number;
  readonly timeNs: bigint;
}

/** The arguments and environment (`KEY=VALUE`) the guest booted with. */
export interface FactEnvRecord {
  readonly kind: "fact.env";
  readonly args: readonly string[];
  readonly env: readonly string[];
}

/**
 * The snapshot marker: everything before it forms a complete snapshot. `trigger` says what caused
 * it (`"accept"`, `"poll"`, `"read"`, `"stdin"`, `"sleep"`, `"futex"` or `"explicit"`).
 */
export interface SnapshotRecord {
  readonly kind: "snapshot";
  readonly trigger: string;
  /** Wall-clock time of the snapshot, nanoseconds since the epoch. */
  readonly timeNs: bigint;
}

/** The process exited with `code`. */
export interface ExitRecord {
  readonly kind: "exit";
  readonly code: number;
}

/** A record whose tag (or tag version) this reader does not know. It is kept verbatim. */
export interface UnknownRecord {
  readonly kind: "unknown";
  readonly tag: number;
  readonly version: number;
  readonly payload: Uint8Array;
}

/** Every journal record. */
export type JournalRecord =
  | IdentityRecord
  | MemorySizeRecord
  | MemoryRunRecord
  | GlobalsRecord
  | ThreadStateRecord
  | FdOpenRecord
  | FdCloseRecord
  | FdSeekRecord
  | FdRenumberRecord
  | FdDupRecord
  | FdSetFlagsRecord
  | FsWriteRecord
  | FsTruncateRecord
  | FsMkdirRecord
  | FsRmdirRecord
  | FsUnlinkRecord
  | FsRenameRecord
  | FsLinkRecord
  | FsSymlinkRecord
  | FsSetTimesRecord
  | SockOpenRecord
  | SockBindRecord
  | SockListenRecord
  | SockConnectedRecord
  | FactRandomRecord
  | FactClockRecord
  | FactEnvRecord
  | SnapshotRecord
  | ExitRecord
  | UnknownRecord;

/** The `kind` of every record this reader knows. */
export type KnownKind = Exclude<JournalRecord["kind"], "unknown">;

/** The record of a given kind. */
export type RecordOf<K extends JournalRecord["kind"]> = Extract<JournalRecord, { kind: K }>;

/** Frozen numeric tags, one per kind. Never reuse or renumber a tag: add a new one. */
export const RECORD_TAGS: Readonly<Record<KnownKind, number>> = Object.freeze({
  "identity": 0x0001,
  "memory.size": 0x0010,
  "memory.run": 0x0011,
  "globals": 0x0020,
  "thread.state": 0x0030,
  "fd.open": 0x0040,
  "fd.close": 0x0041,
  "fd.seek": 0x0042,
  "fd.renumber": 0x0043,
  "fd.dup": 0x0044,
  "fd.set_flags": 0x0045,
  "fs.write": 0x0050,
  "fs.truncate": 0x0051,
  "fs.mkdir": 0x0052,
  "fs.rmdir": 0x0053,
  "fs.unlink": 0x0054,
  "fs.rename": 0x0055,
  "fs.link": 0x0056,
  "fs.symlink": 0x0057,
  "fs.set_times": 0x0058,
  "sock.open": 0x0060,
  "sock.bind": 0x0061,
  "sock.listen": 0x0062,
  "sock.connected": 0x0063,
  "fact.random": 0x0070,
  "fact.clock": 0x0071,
  "fact.env": 0x0072,
  "snapshot": 0x0080,
  "exit": 0x0090,
});

/**
 * Field types of the payload schema (all little-endian):
 * `u8`, `u16`, `u32`; `u53` (a u64 holding a number up to 2^53 - 1); `u64` (a bigint);
 * `bool` (u8, 0 or 1); `str` (u32 byte length, then UTF-8); `bytes` (u32 length, then bytes);
 * `strs` (u32 count, then that many `str`); `codec` (u8 codec id); `fdkind` (u8 index into
 * {@link FD_KINDS}); `globals` (u32 count, then per global: u32 index, u8 type, 8 value bytes).
 */
export type FieldType =
  | "u8"
  | "u16"
  | "u32"
  | "u53"
  | "u64"
  | "bool"
  | "str"
  | "bytes"
  | "strs"
  | "codec"
  | "fdkind"
  | "globals";

/** The payload layout of one kind: its current version and its fields, in order. */
export interface RecordSchema {
  readonly version: number;
  readonly fields: readonly (readonly [name: string, type: FieldType])[];
}

/** Payload layouts, field by field in order. journal/FORMAT.md documents the same tables. */
export const RECORD_SCHEMAS: Readonly<Record<KnownKind, RecordSchema>> = Object.freeze({
  "identity": {
    version: 1,
    fields: [["moduleHash", "bytes"], ["configHash", "bytes"], ["formatVersion", "u16"], [
      "thawVersion",
      "str",
    ]],
  },
  "memory.size": { version: 1, fields: [["memoryIndex", "u32"], ["pages", "u32"]] },
  "memory.run": {
    version: 1,
    fields: [["memoryIndex", "u32"], ["offset", "u53"], ["byteLength", "u53"], ["codec", "codec"], [
      "data",
      "bytes",
    ]],
  },
  "globals": { version: 1, fields: [["globals", "globals"]] },
  "thread.state": {
    version: 1,
    fields: [
      ["threadId", "u32"],
      ["entry", "str"],
      ["asyncifyDataAddress", "u53"],
      ["rewindData", "bytes"],
      ["stackPointer", "u53"],
      ["stackLow", "u53"],
      ["stackHigh", "u53"],
      ["stack", "bytes"],
    ],
  },
  "fd.open": {
    version: 1,
    fields: [
      ["fd", "u32"],
      ["fdKind", "fdkind"],
      ["path", "str"],
      ["oflags", "u16"],
      ["fdflags", "u16"],
      ["rightsBase", "u64"],
      ["rightsInheriting", "u64"],
    ],
  },
  "fd.close": { version: 1, fields: [["fd", "u32"]] },
  "fd.seek": { version: 1, fields: [["fd", "u32"], ["offset", "u53"]] },
  "fd.renumber": { version: 1, fields: [["from", "u32"], ["to", "u32"]] },
  "fd.dup": { version: 1, fields: [["fd", "u32"], ["newFd", "u32"]] },
  "fd.set_flags": { version: 1, fields: [["fd", "u32"], ["fdflags", "u16"]] },
  "fs.write": { version: 1, fields: [["path", "str"], ["offset", "u53"], ["data", "bytes"]] },
  "fs.truncate": { version: 1, fields: [["path", "str"], ["size", "u53"]] },
  "fs.mkdir": { version: 1, fields: [["path", "str"]] },
  "fs.rmdir": { version: 1, fields: [["path", "str"]] },
  "fs.unlink": { version: 1, fields: [["path", "str"]] },
  "fs.rename": { version: 1, fields: [["from", "str"], ["to", "str"]] },
  "fs.link": { version: 1, fields: [["from", "str"], ["to", "str"]] },
  "fs.symlink": { version: 1, fields: [["target", "str"], ["path", "str"]] },
  "fs.set_times": {
    version: 1,
    fields: [["path", "str"], ["atimeNs", "u64"], ["mtimeNs", "u64"]],
  },
  "sock.open": {
    version: 1,
    fields: [["fd", "u32"], ["family", "u8"], ["sockType", "u8"], ["protocol", "u16"]],
  },
  "sock.bind": { version: 1, fields: [["fd", "u32"], ["address", "str"]] },
  "sock.listen": { version: 1, fields: [["fd", "u32"], ["backlog", "u32"]] },
  "sock.connected": {
    version: 1,
    fields: [["fd", "u32"], ["peer", "str"], ["accepted", "bool"]],
  },
  "fact.random": { version: 1, fields: [["bytes", "bytes"]] },
  "fact.clock": { version: 1, fields: [["clockId", "u32"], ["timeNs", "u64"]] },
  "fact.env": { version: 1, fields: [["args", "strs"], ["env", "strs"]] },
  "snapshot": { version: 1, fields: [["trigger", "str"], ["timeNs", "u64"]] },
  "exit": { version: 1, fields: [["code", "u32"]] },
});

/** Every known kind, in tag order. */
export const KNOWN_KINDS: readonly KnownKind[] = Object.freeze(
  (Object.keys(RECORD_TAGS) as KnownKind[]).sort((a, b) => RECORD_TAGS[a] - RECORD_TAGS[b]),
);

const KIND_BY_TAG: ReadonlyMap<number, KnownKind> = new Map(
  KNOWN_KINDS.map((k) => [RECORD_TAGS[k], k]),
);

/**
 * Returns the kind a tag stands for, or `undefined` for a tag this reader does not know.
 *
 * @example
 * ```ts
 * import { kindOfTag } from "./records.ts";
 * console.assert(kindOfTag(0x0080) === "snapshot");
 * ```
 */
export function kindOfTag(tag: number): KnownKind | undefined {
  return KIND_BY_TAG.get(tag);
}
