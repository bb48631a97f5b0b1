import { ok, strictEqual } from "node:assert";
import {
  captureMemoryRuns,
  encodeJournal,
  type JournalRecord,
  readJournalFile,
  writeJournalFile,
} from "../../journal/mod.ts";

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

async function thaw(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const SNAP: JournalRecord = { kind: "snapshot", trigger: "accept", timeNs: 1n };

async function sample(dir: string): Promise<string> {
  const mem = new Uint8Array(256 * 1024);
  for (let i = 0; i < mem.length; i += 3) mem[i] = i % 251;
  const path = `${dir}/app.journal`;
  await writeJournalFile(path, [
    { kind: "memory.size", memoryIndex: 0, pages: 4 },
    ...captureMemoryRuns(mem),
    ...captureMemoryRuns(mem),
    { kind: "fs.write", path: "/tmp/x", offset: 0, data: new Uint8Array(10) },
    { kind: "fs.write", path: "/tmp/x", offset: 0, data: new Uint8Array(20) },
    SNAP,
    { kind: "exit", code: 0 },
  ]);
  return path;
}

Deno.test("thaw journal inspect prints records, bytes by kind and totals", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await sample(dir);
    const r = await thaw("journal", "inspect", path);
    strictEqual(r.code, 0, r.stderr);
    ok(r.stdout.includes("memory.run"));
    ok(r.stdout.includes("Bytes by kind"));
    ok(/Total: 7 records, \d+ bytes, 1 snapshot\(s\), 1 pending/.test(r.stdout), r.stdout);
    const j = await thaw("journal", "inspect", path, "--json");
    strictEqual(j.code, 0, j.stderr);
    const parsed = JSON.parse(j.stdout);
    strictEqual(parsed.records.length, 7);
    strictEqual(parsed.byKind["memory.run"].count, 2);
    strictEqual(parsed.totals.fileBytes, (await Deno.stat(path)).size);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("thaw journal verify exits 0 on a sound journal and 1 naming the first problem", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await sample(dir);
    const good = await thaw("journal", "verify", path);
    strictEqual(good.code, 0, good.stderr);
    ok(good.stdout.includes("OK"));
    const bytes = await Deno.readFile(path);
    bytes[40] ^= 4;
    await Deno.writeFile(path, bytes);
    const bad = await thaw("journal", "verify", path);
    strictEqual(bad.code, 1);
    ok(/checksum mismatch.*record 1 at offset 36/.test(bad.stderr), bad.stderr);
    await Deno.writeFile(path, encodeJournal([{ kind: "exit", code: 0 }]));
    const none = await thaw("journal", "verify", path);
    strictEqual(none.code, 1);
    ok(none.stderr.includes("no snapshot"), none.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("thaw journal compact writes a smaller journal with the same committed state", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await sample(dir);
    const out = `${dir}/small.journal`;
    const r = await thaw("journal", "compact", path, out);
    strictEqual(r.code, 0, r.stderr);
    ok(/7 records -> .*: \d+ bytes, 4 records/.test(r.stdout), r.stdout);
    const read = await readJournalFile(out);
    strictEqual(read.records.length, 4);
    ok((await Deno.stat(out)).size < (await Deno.stat(path)).size);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("thaw journal reports usage errors with exit status 2", async () => {
  strictEqual((await thaw("journal")).code, 2);
  strictEqual((await thaw("journal", "inspect")).code, 2);
  strictEqual((await thaw("journal", "frobnicate", "x")).code, 2);
  const missing = await thaw("journal", "verify", "/nonexistent/x.journal");
  strictEqual(missing.code, 1);
  ok(missing.stderr.includes("check the path"));
});
