import assert from "node:assert/strict";
import {
  acceptJournal,
  checkJournal,
  checkMaxAge,
  configHash,
  encodeJournal,
  type JournalRecord,
} from "../../journal/mod.ts";

const MODULE = "aa".repeat(32);
const CONFIG = "bb".repeat(32);

function unhex(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
}

function journal(options: { module?: string; config?: string; timeMs?: number } = {}) {
  const records: JournalRecord[] = [
    {
      kind: "identity",
      moduleHash: unhex(options.module ?? MODULE),
      configHash: unhex(options.config ?? CONFIG),
      formatVersion: 1,
      thawVersion: "0.1.0",
    },
    { kind: "memory.size", memoryIndex: 0, pages: 1 },
    { kind: "globals", globals: [{ index: 0, type: "i32", value: 5 }] },
    {
      kind: "snapshot",
      trigger: "accept",
      timeNs: BigInt(options.timeMs ?? Date.now()) * 1_000_000n,
    },
  ];
  return encodeJournal(records);
}

const expect = { moduleHash: MODULE, configHash: CONFIG };

Deno.test("acceptJournal() accepts a journal of this module and config", () => {
  const v = acceptJournal(journal(), expect);
  assert.ok(v.ok);
  assert.equal(v.records.length, 4);
  assert.equal(v.snapshot.trigger, "accept");
});

Deno.test("acceptJournal() rejects another module, another config, or an old snapshot", () => {
  const m = acceptJournal(journal({ module: "cc".repeat(32) }), expect);
  assert.ok(!m.ok && m.reason === "module-mismatch");
  const c = acceptJournal(journal({ config: "cc".repeat(32) }), expect);
  assert.ok(!c.ok && c.reason === "config-mismatch");
  const old = acceptJournal(journal({ timeMs: Date.now() - 7200_000 }), {
    ...expect,
    maxAgeMs: 3600_000,
  });
  assert.ok(!old.ok && old.reason === "too-old");
  assert.match(old.message, /cold-booting instead$/);
  const fresh = acceptJournal(journal({ timeMs: Date.now() - 60_000 }), {
    ...expect,
    maxAgeMs: 3600_000,
  });
  assert.ok(fresh.ok);
});

Deno.test("acceptJournal() rejects damaged bytes without throwing", () => {
  const good = journal();
  assert.equal(acceptJournal(new Uint8Array(0), expect).ok, false);
  assert.equal(acceptJournal(good.subarray(0, good.length - 3), expect).ok, false);
  const noSnap = encodeJournal([{ kind: "exit", code: 0 }]);
  const v = acceptJournal(noSnap, expect);
  assert.ok(!v.ok && v.reason === "no-snapshot");
  let seed = 7;
  for (let i = 0; i < 200; i++) {
    const bad = good.slice();
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    bad[seed % bad.length] ^= 1 + (seed >> 8) % 255;
    const verdict = acceptJournal(bad, expect);
    // A flipped byte is caught by a checksum, a header check or the identity comparison.
    assert.equal(verdict.ok, false, `flip at ${seed % bad.length} was accepted`);
  }
});

Deno.test("configHash() is stable under key order and changes with the config", async () => {
  const a = await configHash({ runner: "proxy", env: { A: "1", B: "2" }, args: [], mounts: [] });
  const b = await configHash({ runner: "proxy", env: { B: "2", A: "1" }, args: [], mounts: [] });
  const c = await configHash({ runner: "proxy", env: { A: "1" }, args: [], mounts: [] });
  assert.equal(a, b);
  assert.notEqual(a, c);
});

Deno.test("checkJournal() skips the hashes it is not given, and gives the reason without the fallback", () => {
  const other = journal({ module: "cc".repeat(32), config: "dd".repeat(32) });
  assert.ok(checkJournal(other, {}).ok);
  const m = checkJournal(other, { moduleHash: MODULE });
  assert.ok(!m.ok && m.reason === "module-mismatch");
  assert.match(m.problem, /captured from another module/);
  assert.doesNotMatch(m.problem, /cold-booting/);
  assert.equal(m.message, `${m.problem}; cold-booting instead`);
  const c = checkJournal(other, { configHash: CONFIG });
  assert.ok(!c.ok && c.reason === "config-mismatch");
});

Deno.test("checkMaxAge() refuses only snapshots older than max_age", () => {
  const at = 1_700_000_000_000;
  const timeNs = BigInt(at) * 1_000_000n;
  assert.equal(checkMaxAge(timeNs, 60_000, at + 59_000), undefined);
  const old = checkMaxAge(timeNs, 60_000, at + 61_000);
  assert.equal(old?.reason, "too-old");
  assert.match(old!.problem, /61 s old, older than max_age \(60 s\)/);
});
