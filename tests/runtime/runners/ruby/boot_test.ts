import assert from "node:assert/strict";
import { encodeJournal, type JournalRecord, readJournal } from "../../../../journal/mod.ts";
import type { InstanceSpec } from "../../../../runtime/instance/mod.ts";
import {
  decodeSharedJournal,
  loadRubyProgram,
  prepareRubyModule,
  type RackRunner,
  restoreOnlyModule,
  RUBY_WASM_PATH,
  RubyInstance,
  snapshotRackApp,
} from "../../../../runtime/runners/rack.ts";
import { readRackApp } from "../../../../runtime/runners/rack.ts";
import { bootOrRestoreRack, SPARE_PAGES, warm } from "../../../../runtime/runners/ruby/boot.ts";

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

Deno.test("the restore-only module restores like the full one; a refused journal boots the full module from wasmPath", async () => {
  const prepared = await prepareRubyModule(await Deno.readFile(RUBY_WASM_PATH));
  const small = restoreOnlyModule(prepared);
  assert.ok(small.length < prepared.length * 0.5, `${small.length} of ${prepared.length}`);
  const restoreOnly = await loadRubyProgram(small);
  assert.equal(restoreOnly.layout.restoreOnly, true);
  assert.equal(restoreOnly.layout.sourceSha256, program.layout.sourceSha256);
  await assert.rejects(
    () => RubyInstance.boot(restoreOnly, { files: new Map(), entry: "app.rb" }),
    /restore-only variant.*cannot boot Ruby/,
  );

  const d = await bootOrRestoreRack(restoreOnly.module, spec, {
    journal: await blogJournal(),
    log: () => {},
  });
  assert.equal(d.mode, "restore");
  await servesBlog(d);

  // The journal does not apply: the full module is read from the spec's wasmPath and boots.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/ruby.prepared.wasm`, prepared);
    const lines: string[] = [];
    const cold = await bootOrRestoreRack(
      restoreOnly.module,
      { ...spec, wasmPath: `${dir}/ruby.prepared.wasm` },
      { journal: new TextEncoder().encode("not a journal"), log: (l) => lines.push(l) },
    );
    assert.equal(cold.mode, "cold");
    assert.equal(cold.phases.journal_rejected_unreadable, 0);
    assert.ok(cold.phases.load > 0, JSON.stringify(cold.phases));
    await servesBlog(cold);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a journal decoded once by the host (shared memory) is restored without decoding again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const prepared = await prepareRubyModule(await Deno.readFile(RUBY_WASM_PATH));
    await Deno.writeFile(`${dir}/app.journal`, await blogJournal());
    const { image, files } = await decodeSharedJournal(
      prepared,
      `${dir}/app.journal`,
      BLOG.pathname,
      {},
    );
    assert.ok(image.runs.length > 0);
    assert.ok(image.runs.every((r) => r.bytes.buffer instanceof SharedArrayBuffer));
    assert.ok(files.has("app.rb"));
    // The spec names a journal file that no longer exists, and an app mount that does not exist
    // either: only the shared image and the files read with it can serve.
    await Deno.remove(`${dir}/app.journal`);
    const d = await bootOrRestoreRack(program.module, {
      ...spec,
      mounts: [{ guest: "/app", host: `${dir}/no-such-app` }],
      journalPath: `${dir}/app.journal`,
      journalImage: structuredClone(image),
      appFiles: structuredClone(files),
    }, { log: () => {} });
    assert.equal(d.mode, "restore");
    assert.ok(d.phases.decode < 5, JSON.stringify(d.phases));
    await servesBlog(d);

    // A journal of another app package is refused on the host side too.
    const other = await Deno.makeTempDir();
    try {
      await Deno.writeFile(
        `${other}/app.rb`,
        new TextEncoder().encode("run ->(e) { [200, {}, []] }"),
      );
      await Deno.writeFile(`${dir}/app.journal`, await blogJournal());
      await assert.rejects(
        () => decodeSharedJournal(prepared, `${dir}/app.journal`, other, {}),
        /different version of the app/,
      );
    } finally {
      await Deno.remove(other, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("warm() returns at once; a restore right after takes the spare memory as far as it got", async () => {
  await warm();
  // No event-loop turn in between: the spare has had one 4 MiB slice faulted in at most.
  const d = await bootOrRestoreRack(program.module, spec, {
    journal: await blogJournal(),
    log: () => {},
  });
  assert.equal(d.mode, "restore");
  const { instance } = d.runner as RackRunner;
  assert.equal(instance.memory.buffer.byteLength, SPARE_PAGES * 65536);
  await servesBlog(d);
  // The next restore in this Worker gets a memory of its own, not the spare a second time.
  const again = await bootOrRestoreRack(program.module, spec, {
    journal: await blogJournal(),
    log: () => {},
  });
  assert.notEqual((again.runner as RackRunner).instance.memory, instance.memory);
  await servesBlog(again);
});
