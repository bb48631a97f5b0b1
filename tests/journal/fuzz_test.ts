/**
 * Fuzzed corruption: 10,000 damaged journals. Each must give a typed JournalError naming the
 * offset and record index, or a clean prefix of the snapshots before the damage; none may crash.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import fc from "fast-check";
import {
  captureMemoryRuns,
  decompressRunInto,
  encodeJournal,
  FRAME_HEAD_SIZE,
  HEADER_SIZE,
  type JournalContents,
  JournalError,
  type JournalRecord,
  MemoryRunError,
  readJournal,
  readJournalFile,
  verifyJournal,
} from "../../journal/mod.ts";
import { journalArb, memoryRunArb } from "./_helpers.ts";

const SNAP: JournalRecord = { kind: "snapshot", trigger: "accept", timeNs: 7n };

/** A deterministic pseudo-random generator (xorshift32). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

interface Base {
  readonly records: readonly JournalRecord[];
  readonly bytes: Uint8Array;
  /** Byte offset of every frame, plus the end of the file. */
  readonly offsets: readonly number[];
}

function makeBases(): Base[] {
  const samples = fc.sample(
    fc.tuple(journalArb, journalArb, fc.array(memoryRunArb, { maxLength: 4 })),
    { numRuns: 8, seed: 42 },
  );
  return samples.map(([a, b, runs]) => {
    const records = [...a, SNAP, ...runs, ...b, SNAP, ...a.slice(0, 5)];
    const bytes = encodeJournal(records);
    const offsets = [HEADER_SIZE];
    for (const r of records) {
      offsets.push(offsets.at(-1)! + encodeJournal([r]).length - HEADER_SIZE);
    }
    return { records, bytes, offsets };
  });
}

/** Checks one damaged journal and returns whether the read stopped with damage. */
function check(base: Base, damaged: Uint8Array, what: string): "error" | "prefix" {
  let read;
  try {
    read = readJournal(damaged, { onDamage: "stop" });
  } catch (e) {
    ok(e instanceof JournalError, `${what}: threw ${String(e)}`);
    strictEqual(e.recordIndex, -1, `${what}: only header damage throws`);
    return "error";
  }
  const n = read.records.length;
  deepStrictEqual(read.records, base.records.slice(0, n), `${what}: records are not a prefix`);
  const c = read.committed.length;
  ok(c === 0 || read.committed[c - 1].kind === "snapshot", `${what}: committed ends mid-snapshot`);
  if (read.damage !== null) {
    strictEqual(read.damage.recordIndex, n, `${what}: damage names the wrong record`);
    strictEqual(read.damage.offset, base.offsets[n], `${what}: damage names the wrong offset`);
    ok(read.damage.message.includes(`offset ${base.offsets[n]}`), what);
    return "error";
  }
  return "prefix";
}

Deno.test("readJournal() survives 10,000 corrupted journals", async () => {
  const bases = makeBases();
  const next = rng(1234);
  let cases = 0, errors = 0, prefixes = 0;
  const tally = (r: "error" | "prefix") => {
    cases++;
    if (r === "error") errors++;
    else prefixes++;
  };
  const files: [Base, Uint8Array, string][] = [];

  for (const base of bases) {
    const { bytes, offsets } = base;
    // Truncation at every frame boundary, and one byte either side of it.
    for (const at of offsets) {
      for (const cut of [at - 1, at, at + 1]) {
        if (cut < 0 || cut > bytes.length) continue;
        const r = check(base, bytes.slice(0, cut), `truncate at ${cut}`);
        if (cut === at && cut >= HEADER_SIZE) strictEqual(r, "prefix", `clean cut at ${cut}`);
        tally(r);
      }
    }
    // Single bit flips anywhere: CRC-32 catches every one.
    for (let i = 0; i < 700; i++) {
      const d = bytes.slice();
      const pos = next(d.length);
      d[pos] ^= 1 << next(8);
      strictEqual(check(base, d, `bit flip at ${pos}`), "error", `bit flip at ${pos} went unseen`);
      tally("error");
      if (i % 50 === 0) files.push([base, d, `file bit flip at ${pos}`]);
    }
    // Burst damage: several random bytes overwritten.
    for (let i = 0; i < 200; i++) {
      const d = bytes.slice();
      const pos = next(d.length);
      for (let k = 0; k < 1 + next(6) && pos + k < d.length; k++) d[pos + k] = next(256);
      tally(check(base, d, `burst at ${pos}`));
    }
    // Wrong and huge lengths in a random frame's head.
    for (let i = 0; i < 200; i++) {
      const d = bytes.slice();
      const frame = next(offsets.length - 1);
      const at = offsets[frame] + 4;
      const choices = [
        0,
        1 + next(64),
        next(1 << 16),
        d.length,
        d.length - at + next(100),
        2 ** 30,
        2 ** 30 + 1,
        0xffff_ffff,
      ];
      new DataView(d.buffer).setUint32(at, choices[next(choices.length)], true);
      const r = check(base, d, `length in frame ${frame}`);
      tally(r);
      if (i % 40 === 0) files.push([base, d, `file length in frame ${frame}`]);
    }
    // Bad magic, version, flags or header checksum.
    for (let i = 0; i < 40; i++) {
      const d = bytes.slice();
      d[next(HEADER_SIZE)] ^= 1 + next(255);
      strictEqual(check(base, d, "header damage"), "error");
      tally("error");
    }
    // Frame heads with a reserved flag set or an unknown tag and a wrong checksum.
    for (let i = 0; i < 20; i++) {
      const d = bytes.slice();
      const at = offsets[next(offsets.length - 1)];
      d[at + (i % 2 === 0 ? 3 : 0)] ^= 0x80;
      tally(check(base, d, `frame head at ${at}`));
    }
  }
  // Random truncation of the first base at every byte.
  const small = bases[0];
  for (let cut = 0; cases < 10_000 && cut <= small.bytes.length; cut++) {
    tally(check(small, small.bytes.slice(0, cut), `truncate at ${cut}`));
  }
  while (cases < 10_000) {
    const base = bases[next(bases.length)];
    const d = base.bytes.slice();
    const pos = next(d.length);
    d[pos] ^= 1 << next(8);
    strictEqual(check(base, d, `extra bit flip at ${pos}`), "error");
    tally("error");
  }
  strictEqual(cases, 10_000);
  ok(errors > 0 && prefixes > 0);

  // The file reader agrees with the in-memory reader on a sample of the damaged journals.
  const path = await Deno.makeTempFile({ suffix: ".journal" });
  try {
    for (const [base, d, what] of files) {
      await Deno.writeFile(path, d);
      const fromFile = await readJournalFile(path, { onDamage: "stop" }).catch((e) => e);
      const fromBytes: JournalContents | JournalError = (() => {
        try {
          return readJournal(d, { onDamage: "stop" });
        } catch (e) {
          if (e instanceof JournalError) return e;
          throw e;
        }
      })();
      // Verification reports the damage (or throws it, for a damaged header); it never crashes.
      const report = await verifyJournal(path).catch((e) => {
        ok(e instanceof JournalError && e.recordIndex === -1, `${what}: ${String(e)}`);
        return null;
      });
      if (report !== null && !(fromBytes instanceof JournalError) && fromBytes.damage !== null) {
        strictEqual(report.ok, false, `${what}: verify missed the damage`);
      }
      if (fromBytes instanceof JournalError) {
        ok(fromFile instanceof JournalError, what);
        strictEqual(fromFile.offset, fromBytes.offset, what);
      } else {
        deepStrictEqual(fromFile.records, fromBytes.records, what);
        strictEqual(fromFile.damage?.offset, fromBytes.damage?.offset, what);
        strictEqual(fromFile.damage?.recordIndex, fromBytes.damage?.recordIndex, what);
        ok(fromFile.records.length <= base.records.length);
      }
    }
  } finally {
    await Deno.remove(path);
  }
  ok(FRAME_HEAD_SIZE === 8);
});

Deno.test("decompressRunInto() gives MemoryRunError for corrupt run data of every codec", () => {
  const next = rng(99);
  const source = new Uint8Array(64 * 1024);
  for (let i = 0; i < source.length; i += 1 + next(9)) source[i] = next(256);
  for (const codec of ["none", "zstd", "lz4", "zero"] as const) {
    const [good] = captureMemoryRuns(source, {
      codec: codec === "zero" ? "none" : codec,
      maxRunBytes: 1 << 20,
    });
    const r = codec === "zero" ? { ...good, codec, data: new Uint8Array(0) } : good;
    for (let i = 0; i < 500; i++) {
      const data = r.data.slice(0, r.data.length === 0 ? 0 : Math.max(0, r.data.length - next(4)));
      for (let k = 0; k < 1 + next(4) && data.length > 0; k++) data[next(data.length)] = next(256);
      const damaged = { ...r, data, byteLength: next(4) === 0 ? next(1 << 17) : r.byteLength };
      const target = new Uint8Array(1 << 17);
      try {
        decompressRunInto(damaged, target);
      } catch (e) {
        ok(e instanceof MemoryRunError, `${codec}: ${String(e)}`);
      }
    }
  }
});
