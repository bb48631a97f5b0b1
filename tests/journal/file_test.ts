import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert";
import {
  captureMemoryRuns,
  encodeJournal,
  type FrameHead,
  HEADER_SIZE,
  JournalError,
  JournalFile,
  type JournalRecord,
  JournalWriter,
  readJournalFile,
  verifyJournal,
  writeJournalFile,
} from "../../journal/mod.ts";
import { SAMPLES } from "./_helpers.ts";

const SNAP: JournalRecord = { kind: "snapshot", trigger: "accept", timeNs: 5n };

async function withTemp(fn: (path: string) => Promise<void>): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".journal" });
  try {
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("JournalWriter writes what readJournalFile() reads, byte for byte as encodeJournal()", async () => {
  await withTemp(async (path) => {
    const records = [...Object.values(SAMPLES), SNAP];
    const size = await writeJournalFile(path, records);
    const bytes = await Deno.readFile(path);
    strictEqual(size, bytes.length);
    deepStrictEqual(bytes, encodeJournal(records));
    const read = await readJournalFile(path);
    deepStrictEqual(read.records, records);
    strictEqual(read.pending.length, 0);
  });
});

Deno.test("JournalWriter makes each snapshot durable before append() resolves", async () => {
  await withTemp(async (path) => {
    const w = await JournalWriter.create(path);
    await w.append(SAMPLES.exit);
    // Not a snapshot: still buffered.
    strictEqual((await Deno.stat(path)).size, 0);
    await w.append(SNAP);
    strictEqual((await Deno.stat(path)).size, w.byteLength);
    await w.append(SAMPLES["fd.close"]);
    // A crash now loses only the pending record.
    const read = await readJournalFile(path);
    deepStrictEqual(read.committed, [SAMPLES.exit, SNAP]);
    await w.close();
    deepStrictEqual((await readJournalFile(path)).pending, [SAMPLES["fd.close"]]);
    await rejects(() => w.append(SNAP), /closed/);
  });
});

Deno.test("a journal cut at any byte reads as the snapshots before the cut", async () => {
  const records = [
    SAMPLES.identity,
    SAMPLES.exit,
    SNAP,
    SAMPLES["fs.write"],
    SNAP,
    SAMPLES["fd.close"],
  ];
  const bytes = encodeJournal(records);
  await withTemp(async (path) => {
    for (let cut = HEADER_SIZE; cut <= bytes.length; cut++) {
      await Deno.writeFile(path, bytes.subarray(0, cut));
      const read = await readJournalFile(path, { onDamage: "stop" });
      const snapshots = read.committed.filter((r) => r.kind === "snapshot").length;
      deepStrictEqual(read.committed, records.slice(0, [0, 3, 5][snapshots]));
      ok(read.damage === null || read.damage.code === "truncated");
    }
  });
});

Deno.test("JournalFile.frames() lists frames without reading payloads", async () => {
  await withTemp(async (path) => {
    const big = new Uint8Array(8 << 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = 1 + ((i >> 12) & 0x7f);
    const runs = captureMemoryRuns(big, { codec: "none" });
    await writeJournalFile(path, [...runs, SNAP]);
    // Corrupt one payload byte: listing does not notice, verification does.
    const f0 = await Deno.open(path, { read: true, write: true });
    await f0.seek(HEADER_SIZE + 100, Deno.SeekMode.Start);
    await f0.write(new Uint8Array([0xee]));
    f0.close();
    const f = await JournalFile.open(path);
    try {
      const heads: FrameHead[] = [];
      for await (const h of f.frames()) heads.push(h);
      strictEqual(heads.length, runs.length + 1);
      strictEqual(heads[0].kind, "memory.run");
      strictEqual(heads.at(-1)!.kind, "snapshot");
      // A summary of a large record reads only its first 64 KiB, so it does not see the damage.
      const summary = await f.summarize(heads[0]);
      strictEqual(summary.kind, "memory.run");
      if (summary.kind === "memory.run") {
        strictEqual(summary.offset, runs[0].offset);
        strictEqual(summary.data.length, runs[0].data.length);
      }
      await rejects(() => f.readRecord(heads[0]), JournalError);
      await rejects(
        async () => {
          for await (const _ of f.frames({ verify: true })) { /* walk */ }
        },
        (e: unknown) =>
          e instanceof JournalError && e.code === "bad-checksum" && e.recordIndex === 0,
      );
    } finally {
      f.close();
    }
  });
});

Deno.test("verifyJournal() accepts a sound journal and names the first problem otherwise", async () => {
  await withTemp(async (path) => {
    const mem = new Uint8Array(131072).fill(1);
    await writeJournalFile(path, [
      SAMPLES.identity,
      { kind: "memory.size", memoryIndex: 0, pages: 2 },
      ...captureMemoryRuns(mem),
      SNAP,
      SAMPLES.exit,
    ]);
    const report = await verifyJournal(path);
    strictEqual(report.ok, true, JSON.stringify(report.problems));
    strictEqual(report.snapshots, 1);
    strictEqual(report.pending, 1);

    await writeJournalFile(path, [SAMPLES.exit]);
    const none = await verifyJournal(path);
    strictEqual(none.ok, false);
    strictEqual(none.problems[0].code, "no-snapshot");

    await writeJournalFile(path, [
      { kind: "memory.size", memoryIndex: 0, pages: 1 },
      ...captureMemoryRuns(mem),
      SNAP,
    ]);
    const past = await verifyJournal(path);
    strictEqual(past.problems[0].code, "bad-record");
    strictEqual(past.problems[0].recordIndex, 1);

    await writeJournalFile(path, [SAMPLES.exit, SAMPLES.identity, SNAP]);
    strictEqual((await verifyJournal(path)).problems[0].recordIndex, 1);

    const bytes = encodeJournal([SAMPLES.exit, SNAP]);
    bytes[bytes.length - 1] ^= 1;
    await Deno.writeFile(path, bytes);
    const bad = await verifyJournal(path);
    strictEqual(bad.problems[0].code, "bad-checksum");
    strictEqual(bad.problems[0].recordIndex, 1);
  });
});

Deno.test("JournalFile.open() rejects a file that is not a journal", async () => {
  await withTemp(async (path) => {
    await Deno.writeTextFile(path, "hello, world, this is not a journal");
    await rejects(
      () => JournalFile.open(path),
      (e: unknown) => e instanceof JournalError && e.code === "bad-magic",
    );
  });
});

Deno.test("JournalWriter.resume() continues a journal after cutting off its torn tail", async () => {
  await withTemp(async (path) => {
    const first = encodeJournal([SAMPLES.exit, SNAP, SAMPLES["fd.close"]]);
    await Deno.writeFile(path, first.subarray(0, first.length - 3)); // torn last frame
    const w = await JournalWriter.resume(path);
    await w.append(SAMPLES["fs.mkdir"]);
    await w.append(SNAP);
    await w.close();
    const read = await readJournalFile(path);
    deepStrictEqual(read.records, [SAMPLES.exit, SNAP, SAMPLES["fs.mkdir"], SNAP]);
    strictEqual(read.damage, null);
  });
  const dir = await Deno.makeTempDir();
  try {
    const w = await JournalWriter.resume(`${dir}/new.journal`);
    await w.append(SNAP);
    await w.close();
    deepStrictEqual((await readJournalFile(`${dir}/new.journal`)).records, [SNAP]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
