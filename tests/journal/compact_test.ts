import { deepStrictEqual, strictEqual } from "node:assert";
import fc from "fast-check";
import {
  compactRecords,
  encodeJournal,
  foldRecords,
  type JournalRecord,
  readJournal,
  splitAtLastSnapshot,
} from "../../journal/mod.ts";
import { denseJournalArb, journalArb, run, SAMPLES } from "./_helpers.ts";

const SNAP: JournalRecord = { kind: "snapshot", trigger: "accept", timeNs: 1n };
const open = (fd: number): JournalRecord => ({ ...SAMPLES["fd.open"], fd });
const write = (path: string, offset: number, data: number[]): JournalRecord => ({
  kind: "fs.write",
  path,
  offset,
  data: new Uint8Array(data),
});

Deno.test("compactRecords() keeps the state of random journals", () => {
  fc.assert(
    fc.property(journalArb, fc.boolean(), (some, endWithSnapshot) => {
      // Half the journals end with a marker, so that most of their records are committed.
      const records = endWithSnapshot ? [...some, SNAP] : some;
      const { committed } = splitAtLastSnapshot(records);
      const compacted = compactRecords(records);
      deepStrictEqual(foldRecords(compacted), foldRecords(committed));
      strictEqual(compacted.length <= committed.length, true);
      // Compacting again changes nothing more.
      deepStrictEqual(compactRecords(compacted), compacted);
    }),
    { numRuns: 1500 },
  );
});

Deno.test("compactRecords() keeps the state of dense random journals", () => {
  fc.assert(
    fc.property(denseJournalArb, (some) => {
      const records = [...some, SNAP];
      deepStrictEqual(foldRecords(compactRecords(records)), foldRecords(records));
    }),
    { numRuns: 10_000 },
  );
});

Deno.test("compactRecords() keeps the state of journals that survive encoding", () => {
  fc.assert(
    fc.property(journalArb, (records) => {
      const compacted = readJournal(encodeJournal(compactRecords(records))).committed;
      deepStrictEqual(foldRecords(compacted), foldRecords(splitAtLastSnapshot(records).committed));
    }),
    { numRuns: 200 },
  );
});

Deno.test("compactRecords() drops memory runs that later runs cover", () => {
  const a = run(0, new Uint8Array(4096).fill(1));
  const b = run(0, new Uint8Array(8192).fill(2));
  const c = run(8192, new Uint8Array(4096).fill(3));
  deepStrictEqual(compactRecords([a, c, b, SNAP]), [c, b, SNAP]);
  // A partly covered run stays.
  const d = run(4096, new Uint8Array(8192).fill(4));
  deepStrictEqual(compactRecords([d, a, SNAP]), [d, a, SNAP]);
});

Deno.test("compactRecords() drops fds opened and closed with no lasting effect", () => {
  const seek: JournalRecord = { kind: "fd.seek", fd: 7, offset: 9 };
  deepStrictEqual(compactRecords([open(7), seek, { kind: "fd.close", fd: 7 }, SNAP]), [SNAP]);
  // A dup in between gives the open a lasting effect.
  const dup: JournalRecord = { kind: "fd.dup", fd: 7, newFd: 8 };
  const kept = [open(7), dup, { kind: "fd.close", fd: 7 } as JournalRecord, SNAP];
  deepStrictEqual(compactRecords(kept), kept);
  // Reopening an open fd replaces it, so that pair stays too.
  const reopen = [open(7), open(7), { kind: "fd.close", fd: 7 } as JournalRecord, SNAP];
  strictEqual(compactRecords(reopen).length, 4);
});

Deno.test("compactRecords() drops file writes that later writes overwrite", () => {
  const w1 = write("/f", 0, [1, 2, 3]);
  const w2 = write("/f", 0, [4, 5, 6, 7]);
  deepStrictEqual(compactRecords([w1, w2, SNAP]), [w2, SNAP]);
  // Two later writes together cover it.
  const w3 = write("/f", 2, [9, 9]);
  deepStrictEqual(compactRecords([w1, write("/f", 0, [0, 0]), w3, SNAP]).length, 3);
  // Stamping times on a file the first write created ties the write to the file's existence.
  const stamped: JournalRecord[] = [
    { kind: "fs.unlink", path: "/f" },
    w1,
    { kind: "fs.set_times", path: "/f", atimeNs: 1n, mtimeNs: 1n },
    w2,
    SNAP,
  ];
  deepStrictEqual(compactRecords(stamped), stamped);
  deepStrictEqual(foldRecords(compactRecords(stamped)), foldRecords(stamped));
  // A rename in between ends the window.
  const mv: JournalRecord = { kind: "fs.rename", from: "/g", to: "/f" };
  strictEqual(compactRecords([w1, mv, w2, SNAP]).length, 4);
});

Deno.test("compactRecords() drops pending records and earlier markers", () => {
  const out = compactRecords([SNAP, SAMPLES.exit, SNAP, SAMPLES["fd.close"]]);
  deepStrictEqual(out, [SAMPLES.exit, SNAP]);
  const kept = compactRecords([SNAP, SAMPLES["fd.close"]], { keepPending: true });
  deepStrictEqual(kept, [SNAP, SAMPLES["fd.close"]]);
});

Deno.test("compactRecords() merges globals and random facts", () => {
  const out = compactRecords([
    {
      kind: "globals",
      globals: [{ index: 1, type: "i32", value: 1 }, { index: 0, type: "i32", value: 5 }],
    },
    { kind: "fact.random", bytes: new Uint8Array([1]) },
    { kind: "globals", globals: [{ index: 1, type: "i32", value: 2 }] },
    { kind: "fact.random", bytes: new Uint8Array([2]) },
    SNAP,
  ]);
  deepStrictEqual(out, [
    {
      kind: "globals",
      globals: [{ index: 0, type: "i32", value: 5 }, { index: 1, type: "i32", value: 2 }],
    },
    { kind: "fact.random", bytes: new Uint8Array([1, 2]) },
    SNAP,
  ]);
});

Deno.test("compactRecords() drops writes to a file that is unlinked later", () => {
  const w1 = write("/tmp/t", 0, [1, 2]);
  const trunc: JournalRecord = { kind: "fs.truncate", path: "/tmp/t", size: 1 };
  const rm: JournalRecord = { kind: "fs.unlink", path: "/tmp/t" };
  deepStrictEqual(compactRecords([w1, trunc, write("/other", 0, [1]), rm, SNAP]), [
    write("/other", 0, [1]),
    rm,
    SNAP,
  ]);
  // With a hard link the bytes live on under the other name.
  const link: JournalRecord = { kind: "fs.link", from: "/tmp/t", to: "/tmp/u" };
  strictEqual(compactRecords([link, w1, rm, SNAP]).length, 4);
});

Deno.test("compactRecords() drops writes that a later truncation cuts off", () => {
  const w1 = write("/f", 4, [1, 2]);
  const cut: JournalRecord = { kind: "fs.truncate", path: "/f", size: 3 };
  deepStrictEqual(compactRecords([w1, cut, SNAP]), [cut, SNAP]);
  const w2 = write("/f", 0, [1, 2, 3, 4, 5]);
  deepStrictEqual(compactRecords([w2, cut, SNAP]), [w2, cut, SNAP]);
  deepStrictEqual(compactRecords([w2, cut, write("/f", 0, [9, 9, 9]), SNAP]).length, 3);
});

Deno.test("compactRecords() keeps time stamps of a directory that an unlink cannot remove", () => {
  // Found by the property test: unlink does nothing to a directory, so its times stay.
  const records: JournalRecord[] = [
    { kind: "fs.mkdir", path: "/a" },
    { kind: "fs.set_times", path: "/a", atimeNs: 1n, mtimeNs: 2n },
    { kind: "fs.unlink", path: "/a" },
    SNAP,
  ];
  deepStrictEqual(compactRecords(records), records);
});
