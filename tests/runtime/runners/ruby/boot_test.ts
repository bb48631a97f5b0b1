import assert from "node:assert/strict";
import { encodeJournal, type JournalRecord, readJournal } from "../../../../journal/mod.ts";
import type { InstanceSpec } from "../../../../runtime/instance/mod.ts";
import {
  loadRubyProgram,
  RUBY_WASM_PATH,
  snapshotRackApp,
} from "../../../../runtime/runners/rack.ts";
import { readRackApp } from "../../../../runtime/runners/rack.ts";
import { bootOrRestoreRack } from "../../../../runtime/runners/ruby/boot.ts";

const BLOG = new URL("../../../../examples/ruby-blog", import.meta.url);
const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
const DAY_MS = 86_400_000;
const SNAPSHOT_AT_MS = 1_700_000_000_000;

const spec: InstanceSpec = {
  name: "ruby-blog",
  runner: "rack",
  env: {},
  args: [],
  wasmPath: "ruby.wasm",
  mounts: [{ guest: "/app", host: BLOG.pathname }],
};

let journal: Uint8Array | undefined;
async function blogJournal(): Promise<Uint8Array> {
  const app = await readRackApp(BLOG);
  journal ??= (await snapshotRackApp(program, app, [{ path: "/" }], {
    log: () => {},
    snapshotTimeNs: BigInt(SNAPSHOT_AT_MS) * 1_000_000n,
  })).journal;
  return journal;
}

/** The journal with its records changed by `edit`, re-encoded intact (checksums valid). */
function rewrite(bytes: Uint8Array, edit: (r: JournalRecord[]) => JournalRecord[]): Uint8Array {
  return encodeJournal(edit([...readJournal(bytes).records]));
}

async function servesBlog(d: Awaited<ReturnType<typeof bootOrRestoreRack>>): Promise<void> {
  const res = await d.runner.handle(new Request("http://localhost/api/posts"));
  assert.equal(res.status, 200);
  assert.ok(Array.isArray((await res.json()).posts));
}

Deno.test("a journal that applies is restored, with no rejection mark", async () => {
  const lines: string[] = [];
  const d = await bootOrRestoreRack(program.module, spec, {
    journal: await blogJournal(),
    maxAgeMs: DAY_MS,
    now: SNAPSHOT_AT_MS + 1000,
    log: (l) => lines.push(l),
  });
  assert.equal(d.mode, "restore");
  assert.equal(d.rejected, undefined);
  assert.ok("restore" in d.phases && "decode" in d.phases);
  assert.ok(!Object.keys(d.phases).some((k) => k.startsWith("journal_rejected_")));
  await servesBlog(d);
});

const cases: {
  what: string;
  reason: string;
  message: RegExp;
  journal?: (j: Uint8Array) => Uint8Array;
  path?: string;
  env?: Record<string, string>;
  maxAgeMs?: number;
}[] = [
  {
    what: "truncated",
    reason: "unreadable",
    message: /damaged/,
    journal: (j) => j.subarray(0, j.length - 1000),
  },
  {
    what: "with a flipped byte",
    reason: "unreadable",
    message: /damaged/,
    journal: (j) => {
      const c = j.slice();
      c[c.length >> 1] ^= 0xff;
      return c;
    },
  },
  {
    what: "missing from disk",
    reason: "unreadable",
    message: /Cannot read the journal/,
    path: "/nonexistent/app.journal",
  },
  {
    what: "of another module",
    reason: "module-mismatch",
    message: /another module/,
    journal: (j) =>
      rewrite(
        j,
        (rs) => rs.map((r) => r.kind === "identity" ? { ...r, moduleHash: new Uint8Array(32) } : r),
      ),
  },
  {
    what: "of another app config",
    reason: "config-mismatch",
    message: /different version/,
    env: { BLOG_TITLE: "other" },
  },
  { what: "older than max_age", reason: "too-old", message: /older than max_age/, maxAgeMs: 1000 },
  {
    what: "without a snapshot marker",
    reason: "no-snapshot",
    message: /no complete snapshot/,
    journal: (j) => rewrite(j, (rs) => rs.filter((r) => r.kind !== "snapshot")),
  },
  {
    what: "without its globals record",
    reason: "bad-state",
    message: /memory.size or globals/,
    journal: (j) => rewrite(j, (rs) => rs.filter((r) => r.kind !== "globals")),
  },
];

for (const c of cases) {
  Deno.test(`a journal ${c.what} cold-boots, logs why and marks journal_rejected_${c.reason}`, async () => {
    const good = await blogJournal();
    const lines: string[] = [];
    const d = await bootOrRestoreRack(
      program.module,
      { ...spec, env: c.env ?? {}, journalPath: c.path },
      {
        journal: c.path ? undefined : (c.journal ?? ((j) => j))(good),
        maxAgeMs: c.maxAgeMs,
        now: SNAPSHOT_AT_MS + 60_000,
        log: (l) => lines.push(l),
      },
    );
    assert.equal(d.mode, "cold");
    assert.equal(d.rejected?.reason, c.reason);
    assert.match(d.rejected!.message, c.message);
    assert.match(d.rejected!.message, /cold-booting instead/);
    assert.equal(d.phases[`journal_rejected_${c.reason}`], 0);
    assert.ok("boot" in d.phases);
    assert.ok(lines.some((l) => c.message.test(l)), `logged: ${lines.join(" | ")}`);
    await servesBlog(d);
  });
}

Deno.test("the Worker boot function cold-boots on a damaged journal file instead of failing", async () => {
  const { boot } = await import("../../../../runtime/runners/ruby/boot.ts");
  const path = await Deno.makeTempFile({ suffix: ".journal" });
  const warn = console.error;
  const logged: string[] = [];
  console.error = (...a: unknown[]) => logged.push(a.join(" "));
  try {
    await Deno.writeFile(path, new TextEncoder().encode("not a journal"));
    const r = await boot(program.module, { ...spec, journalPath: path });
    assert.equal(r.phases.journal_rejected_unreadable, 0);
    const res = await r.runner.handle(new Request("http://localhost/"));
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.ok(logged.some((l) => l.includes("[ruby-blog]") && l.includes("cold-booting")));
  } finally {
    console.error = warn;
    await Deno.remove(path);
  }
});
