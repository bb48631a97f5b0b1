import assert from "node:assert/strict";
import { loadApp } from "../../../config/mod.ts";
import { deploy } from "../../../cli/deploy/mod.ts";
import { encodeJournal, type JournalRecord, readJournal } from "../../../journal/mod.ts";
import { bootOrRestore } from "../../../runtime/snapshot/mod.ts";
import { loadBundle, snapServerApp, specOf } from "./_app.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

Deno.test("100 corrupted or mismatched journals each cold-boot and answer correctly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/bundle`;
    await deploy(await loadApp(await snapServerApp(dir)), { out, cacheDir: `${ROOT}.thaw-cache` });
    const { app, module } = await loadBundle(out);
    const good = await Deno.readFile(`${out}/snapshot.journal`);
    const records = readJournal(good).records as JournalRecord[];
    const reencode = (f: (r: JournalRecord) => JournalRecord) => encodeJournal(records.map(f));
    const rand = rng(42);
    const cases: {
      what: string;
      journal: Uint8Array;
      env?: Record<string, string>;
      maxAgeMs?: number;
    }[] = [];
    for (let i = 0; i < 40; i++) {
      const bad = good.slice();
      const at = Math.floor(rand() * bad.length);
      bad[at] ^= 1 + Math.floor(rand() * 255);
      cases.push({ what: `flip byte ${at}`, journal: bad });
    }
    for (let i = 0; i < 20; i++) {
      const len = Math.floor(rand() * (good.length - 1));
      cases.push({ what: `truncate to ${len}`, journal: good.slice(0, len) });
    }
    for (let i = 0; i < 10; i++) {
      cases.push({
        what: "other module",
        journal: reencode((r) =>
          r.kind === "identity"
            ? { ...r, moduleHash: crypto.getRandomValues(new Uint8Array(32)) }
            : r
        ),
      });
    }
    for (let i = 0; i < 10; i++) {
      cases.push({ what: "other config", journal: good, env: { ...app.env, EXTRA: String(i) } });
    }
    for (let i = 0; i < 10; i++) {
      cases.push({
        what: "too old",
        journal: reencode((r) =>
          r.kind === "snapshot" ? { ...r, timeNs: 1_000_000_000n * BigInt(i) } : r
        ),
        maxAgeMs: 3600_000,
      });
    }
    for (let i = 0; i < 10; i++) {
      // Checksums intact, contents wrong: restore fails while applying and falls back.
      const journal = i % 2 === 0
        ? reencode((r) =>
          r.kind === "memory.run" ? { ...r, data: new Uint8Array([1, 2, 3, i]) } : r
        )
        : reencode((r) => r.kind === "globals" ? { ...r, globals: r.globals.slice(1) } : r);
      cases.push({ what: i % 2 === 0 ? "garbage memory run" : "missing global", journal });
    }
    assert.equal(cases.length, 100);
    const reasons = new Map<string, number>();
    for (const c of cases) {
      const spec = { ...specOf(app), env: c.env ?? { ...app.env } };
      const d = await bootOrRestore(module, spec, {
        journal: c.journal,
        maxAgeMs: c.maxAgeMs,
        stdout: "null",
        stderr: "null",
      });
      assert.equal(d.mode, "cold", c.what);
      assert.ok(d.rejected !== undefined, c.what);
      assert.ok(`journal_rejected_${d.rejected.reason}` in d.phases);
      reasons.set(d.rejected.reason, (reasons.get(d.rejected.reason) ?? 0) + 1);
      const res = await d.runner.handle(new Request("http://x/inc"));
      assert.equal(await res.text(), "counter=1\n", c.what);
    }
    for (const r of ["unreadable", "module-mismatch", "config-mismatch", "too-old", "bad-state"]) {
      assert.ok((reasons.get(r) ?? 0) > 0, `no case was rejected as ${r}: ${[...reasons]}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
