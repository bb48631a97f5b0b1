/** Shared test helpers: one sample per kind, fast-check arbitraries, and the round-trip check. */

import { deepStrictEqual, strictEqual } from "node:assert";
import fc from "fast-check";
import {
  compressRun,
  decodeFrame,
  decodeFrameHead,
  encodeRecord,
  FD_KINDS,
  type JournalRecord,
  type KnownKind,
  type MemoryCodec,
  type MemoryRunRecord,
} from "../../journal/mod.ts";

/** Encodes one record as a frame, decodes it back, and checks it is equal. */
export function assertRoundTrip(record: JournalRecord): void {
  const frame = encodeRecord(record);
  const head = decodeFrameHead(frame, 16, 0, frame.length);
  strictEqual(head.frameLength, frame.length);
  const back = decodeFrame(head, frame);
  deepStrictEqual(back, record);
  // Encoding is deterministic: the same record gives the same bytes.
  deepStrictEqual(encodeRecord(back), frame);
}

/** Builds a memory run from raw bytes. */
export function run(
  offset: number,
  bytes: Uint8Array,
  codec: MemoryCodec = "zstd",
  memoryIndex = 0,
): MemoryRunRecord {
  return {
    kind: "memory.run",
    memoryIndex,
    offset,
    byteLength: bytes.length,
    codec,
    data: compressRun(bytes, codec),
  };
}

const h = (n: number) => new Uint8Array(32).fill(n);

/** One hand-written sample of every known kind. */
export const SAMPLES: { readonly [K in KnownKind]: Extract<JournalRecord, { kind: K }> } = {
  "identity": {
    kind: "identity",
    moduleHash: h(1),
    configHash: h(2),
    formatVersion: 1,
    thawVersion: "0.1.0",
  },
  "memory.size": { kind: "memory.size", memoryIndex: 0, pages: 1130 },
  "memory.run": run(65536, new Uint8Array(8192).fill(7)),
  "globals": {
    kind: "globals",
    globals: [
      { index: 0, type: "i32", value: -5 },
      { index: 1, type: "i64", value: -(2n ** 63n) },
      { index: 2, type: "f32", value: 1.5 },
      { index: 3, type: "f64", value: Math.PI },
    ],
  },
  "thread.state": {
    kind: "thread.state",
    threadId: 0,
    entry: "rb-eval-string-protect",
    asyncifyDataAddress: 1024,
    rewindData: new Uint8Array([1, 2, 3, 4]),
    stackPointer: 5_000_000,
    stackLow: 4_000_000,
    stackHigh: 5_242_880,
    stack: new Uint8Array([9, 9]),
  },
  "fd.open": {
    kind: "fd.open",
    fd: 3,
    fdKind: "preopen",
    path: "/",
    oflags: 0,
    fdflags: 0,
    rightsBase: 0x1fffffffn,
    rightsInheriting: 0xffff_ffff_ffff_ffffn,
  },
  "fd.close": { kind: "fd.close", fd: 7 },
  "fd.seek": { kind: "fd.seek", fd: 7, offset: 2 ** 40 },
  "fd.renumber": { kind: "fd.renumber", from: 7, to: 4 },
  "fd.dup": { kind: "fd.dup", fd: 4, newFd: 9 },
  "fd.set_flags": { kind: "fd.set_flags", fd: 4, fdflags: 4 },
  "fs.write": {
    kind: "fs.write",
    path: "/tmp/ünï.txt",
    offset: 3,
    data: new Uint8Array([104, 105]),
  },
  "fs.truncate": { kind: "fs.truncate", path: "/tmp/a", size: 0 },
  "fs.mkdir": { kind: "fs.mkdir", path: "/tmp/d" },
  "fs.rmdir": { kind: "fs.rmdir", path: "/tmp/d" },
  "fs.unlink": { kind: "fs.unlink", path: "/tmp/a" },
  "fs.rename": { kind: "fs.rename", from: "/tmp/a", to: "/tmp/b" },
  "fs.link": { kind: "fs.link", from: "/tmp/b", to: "/tmp/c" },
  "fs.symlink": { kind: "fs.symlink", target: "../b", path: "/tmp/l" },
  "fs.set_times": { kind: "fs.set_times", path: "/tmp/b", atimeNs: 1n, mtimeNs: 2n ** 62n },
  "sock.open": { kind: "sock.open", fd: 5, family: 1, sockType: 1, protocol: 0 },
  "sock.bind": { kind: "sock.bind", fd: 5, address: "127.0.0.1:8080" },
  "sock.listen": { kind: "sock.listen", fd: 5, backlog: 128 },
  "sock.connected": { kind: "sock.connected", fd: 6, peer: "127.0.0.1:50000", accepted: true },
  "fact.random": { kind: "fact.random", bytes: new Uint8Array([4, 2]) },
  "fact.clock": { kind: "fact.clock", clockId: 1, timeNs: 123_456_789n },
  "fact.env": { kind: "fact.env", args: ["ruby", "-e", ""], env: ["HOME=/", "LANG=C"] },
  "snapshot": { kind: "snapshot", trigger: "accept", timeNs: 1_700_000_000_000_000_000n },
  "exit": { kind: "exit", code: 0 },
};

// ---- fast-check arbitraries ----------------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u53 = fc.maxSafeNat();
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const smallFd = fc.integer({ min: 0, max: 8 });
const path = fc.constantFrom("/a", "/b", "/a/x", "/a/y", "/d", "/d/z", "/tmp/f");
const bytes = fc.uint8Array({ maxLength: 24 });
const codec = fc.constantFrom<Exclude<MemoryCodec, "zero">>("none", "zstd", "lz4");

/** A memory run inside the first 16 KiB, any codec (including `zero`). */
export const memoryRunArb: fc.Arbitrary<MemoryRunRecord> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 4 }), codec, fc.nat(255))
    .map(([page, pages, c, seed]) => {
      const b = new Uint8Array(pages * 1024);
      for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed) % 251 < 40 ? (i + seed) & 0xff : 0;
      return run(page * 1024, b, c);
    }),
  fc.tuple(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 4 }))
    .map(([page, pages]) => run(page * 1024, new Uint8Array(pages * 1024), "zero")),
);

const globalArb = fc.oneof(
  fc.record({
    index: fc.integer({ min: 0, max: 4 }),
    type: fc.constant("i32" as const),
    value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  }),
  fc.record({
    index: fc.integer({ min: 0, max: 4 }),
    type: fc.constant("i64" as const),
    value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  }),
  fc.record({
    index: fc.integer({ min: 0, max: 4 }),
    type: fc.constant("f32" as const),
    value: fc.float(),
  }),
  fc.record({
    index: fc.integer({ min: 0, max: 4 }),
    type: fc.constant("f64" as const),
    value: fc.double(),
  }),
);

/** Any known record, with small value ranges so that journals exercise collisions. */
export const recordArb: fc.Arbitrary<JournalRecord> = fc.oneof(
  fc.record({
    kind: fc.constant("identity" as const),
    moduleHash: bytes,
    configHash: bytes,
    formatVersion: fc.integer({ min: 0, max: 0xffff }),
    thawVersion: fc.string(),
  }),
  fc.record({
    kind: fc.constant("memory.size" as const),
    memoryIndex: fc.integer({ min: 0, max: 1 }),
    pages: fc.integer({ min: 0, max: 4 }),
  }),
  memoryRunArb,
  memoryRunArb,
  fc.record({
    kind: fc.constant("globals" as const),
    globals: fc.array(globalArb, { maxLength: 4 }),
  }),
  fc.record({
    kind: fc.constant("thread.state" as const),
    threadId: fc.integer({ min: 0, max: 2 }),
    entry: fc.string(),
    asyncifyDataAddress: u53,
    rewindData: bytes,
    stackPointer: u53,
    stackLow: u53,
    stackHigh: u53,
    stack: bytes,
  }),
  fc.record({
    kind: fc.constant("fd.open" as const),
    fd: smallFd,
    fdKind: fc.constantFrom(...FD_KINDS),
    path,
    oflags: fc.integer({ min: 0, max: 0xffff }),
    fdflags: fc.integer({ min: 0, max: 0xffff }),
    rightsBase: u64,
    rightsInheriting: u64,
  }),
  fc.record({ kind: fc.constant("fd.close" as const), fd: smallFd }),
  fc.record({ kind: fc.constant("fd.seek" as const), fd: smallFd, offset: u53 }),
  fc.record({ kind: fc.constant("fd.renumber" as const), from: smallFd, to: smallFd }),
  fc.record({ kind: fc.constant("fd.dup" as const), fd: smallFd, newFd: smallFd }),
  fc.record({
    kind: fc.constant("fd.set_flags" as const),
    fd: smallFd,
    fdflags: fc.integer({ min: 0, max: 0xffff }),
  }),
  fc.record({
    kind: fc.constant("fs.write" as const),
    path,
    offset: fc.integer({ min: 0, max: 40 }),
    data: bytes,
  }),
  fc.record({
    kind: fc.constant("fs.write" as const),
    path,
    offset: fc.integer({ min: 0, max: 40 }),
    data: bytes,
  }),
  fc.record({
    kind: fc.constant("fs.truncate" as const),
    path,
    size: fc.integer({ min: 0, max: 50 }),
  }),
  fc.record({ kind: fc.constant("fs.mkdir" as const), path }),
  fc.record({ kind: fc.constant("fs.rmdir" as const), path }),
  fc.record({ kind: fc.constant("fs.unlink" as const), path }),
  fc.record({ kind: fc.constant("fs.rename" as const), from: path, to: path }),
  fc.record({ kind: fc.constant("fs.link" as const), from: path, to: path }),
  fc.record({ kind: fc.constant("fs.symlink" as const), target: fc.string(), path }),
  fc.record({ kind: fc.constant("fs.set_times" as const), path, atimeNs: u64, mtimeNs: u64 }),
  fc.record({
    kind: fc.constant("sock.open" as const),
    fd: smallFd,
    family: fc.integer({ min: 0, max: 255 }),
    sockType: fc.integer({ min: 0, max: 255 }),
    protocol: fc.integer({ min: 0, max: 0xffff }),
  }),
  fc.record({ kind: fc.constant("sock.bind" as const), fd: smallFd, address: fc.string() }),
  fc.record({ kind: fc.constant("sock.listen" as const), fd: smallFd, backlog: u32 }),
  fc.record({
    kind: fc.constant("sock.connected" as const),
    fd: smallFd,
    peer: fc.string(),
    accepted: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("fact.random" as const), bytes }),
  fc.record({ kind: fc.constant("fact.clock" as const), clockId: u32, timeNs: u64 }),
  fc.record({
    kind: fc.constant("fact.env" as const),
    args: fc.array(fc.string(), { maxLength: 3 }),
    env: fc.array(fc.string(), { maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant("snapshot" as const), trigger: fc.string(), timeNs: u64 }),
  fc.record({ kind: fc.constant("exit" as const), code: u32 }),
  fc.record({
    kind: fc.constant("unknown" as const),
    tag: fc.integer({ min: 0xf000, max: 0xffff }),
    version: fc.integer({ min: 0, max: 255 }),
    payload: bytes,
  }),
).map(plain) as fc.Arbitrary<JournalRecord>;

/** fast-check builds null-prototype objects; records are plain ones. */
function plain(r: object): JournalRecord {
  const out = { ...r } as Record<string, unknown>;
  if (Array.isArray(out.globals)) out.globals = out.globals.map((g: object) => ({ ...g }));
  return out as unknown as JournalRecord;
}

/** A random journal: up to 60 records. */
export const journalArb: fc.Arbitrary<JournalRecord[]> = fc.array(recordArb, { maxLength: 60 });

const densePath = fc.constantFrom("/a", "/b", "/a/x");
const denseFd = fc.integer({ min: 3, max: 5 });
const denseBytes = fc.uint8Array({ minLength: 1, maxLength: 6 });

/** Records over few fds, paths and pages, so that random journals collide a lot. */
export const denseRecordArb: fc.Arbitrary<JournalRecord> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("fs.write" as const),
      path: densePath,
      offset: fc.integer({ min: 0, max: 6 }),
      data: denseBytes,
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("fs.truncate" as const),
      path: densePath,
      size: fc.integer({ min: 0, max: 8 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("fs.set_times" as const),
      path: densePath,
      atimeNs: fc.constant(1n),
      mtimeNs: fc.constant(2n),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constantFrom("fs.unlink" as const, "fs.mkdir" as const, "fs.rmdir" as const),
      path: densePath,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constantFrom("fs.rename" as const, "fs.link" as const),
      from: densePath,
      to: densePath,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("fd.open" as const),
      fd: denseFd,
      fdKind: fc.constant("file" as const),
      path: densePath,
      oflags: fc.constant(0),
      fdflags: fc.constant(0),
      rightsBase: fc.constant(0n),
      rightsInheriting: fc.constant(0n),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant("fd.close" as const), fd: denseFd }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant("fd.seek" as const),
      fd: denseFd,
      offset: fc.integer({ min: 0, max: 3 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("fd.set_flags" as const),
      fd: denseFd,
      fdflags: fc.integer({ min: 0, max: 3 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("fd.dup" as const), fd: denseFd, newFd: denseFd }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("fd.renumber" as const), from: denseFd, to: denseFd }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("sock.open" as const),
      fd: denseFd,
      family: fc.constant(1),
      sockType: fc.constant(1),
      protocol: fc.constant(0),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("sock.connected" as const),
      fd: denseFd,
      peer: fc.constant("p"),
      accepted: fc.boolean(),
    }),
    weight: 1,
  },
  { arbitrary: memoryRunArb, weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant("snapshot" as const),
      trigger: fc.constant("poll"),
      timeNs: fc.bigInt({ min: 0n, max: 3n }),
    }),
    weight: 1,
  },
).map(plain) as fc.Arbitrary<JournalRecord>;

/** A random dense journal: up to 40 records. */
export const denseJournalArb: fc.Arbitrary<JournalRecord[]> = fc.array(denseRecordArb, {
  maxLength: 40,
});
