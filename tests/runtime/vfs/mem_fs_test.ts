import assert from "node:assert/strict";
import { listChanges, MemFile, MemFs } from "../../../runtime/vfs/mod.ts";
import { assertFsError, conformance } from "./_conformance.ts";

conformance("MemFs", () => {
  const fs = new MemFs();
  return Promise.resolve({ root: fs.root, cleanup: () => Promise.resolve() });
});

Deno.test("MemFs.writeFile() creates parents and readFile() reads back", () => {
  const fs = new MemFs();
  fs.writeFile("/a/b/c.txt", "deep");
  assert.equal(new TextDecoder().decode(fs.readFile("a/b/c.txt")), "deep");
  assert.equal(fs.lookup("/a/b")?.kind, "dir");
  assert.equal(fs.lookup("/nope"), null);
});

Deno.test("MemFs.mount() puts another backend's directory at a path", () => {
  const fs = new MemFs();
  const other = new MemFs();
  other.writeFile("x", "from other");
  fs.mount("/mnt/other", other.root);
  assert.equal(new TextDecoder().decode(fs.readFile("/mnt/other/x")), "from other");
  assertFsError(() => fs.mount("/mnt/other", other.root), "EXIST");
});

Deno.test("MemDir version changes on every mutation (readdir cookies rely on it)", () => {
  const fs = new MemFs();
  const v0 = fs.root.version;
  fs.root.createFile("a");
  const v1 = fs.root.version;
  assert.notEqual(v0, v1);
  fs.root.unlink("a");
  assert.notEqual(fs.root.version, v1);
});

Deno.test("MemFile grows in place and truncation zero-fills", () => {
  const fs = new MemFs();
  const f = fs.root.createFile("f") as MemFile;
  for (let i = 0; i < 1000; i++) f.pwrite(new Uint8Array([i & 255]), i);
  assert.equal(f.size(), 1000);
  f.truncate(10);
  f.truncate(20);
  const buf = new Uint8Array(20);
  f.pread(buf, 0);
  assert.deepEqual([...buf.subarray(10)], new Array(10).fill(0));
});

Deno.test("MemFile write updates mtime; stat converts lazily", () => {
  const fs = new MemFs();
  const f = fs.root.createFile("f") as MemFile;
  f.setTimes(1n, 1n);
  f.pwrite(new Uint8Array([1]), 0);
  assert.ok(f.stat().mtim > 1_000_000_000_000_000_000n);
});

Deno.test("MemDir.stat() counts subdirectories in nlink", () => {
  const fs = new MemFs();
  fs.mkdirp("a");
  fs.mkdirp("b");
  fs.writeFile("c", "");
  assert.equal(fs.root.stat().nlink, 4);
});

Deno.test("listChanges() of a fresh MemFs is empty", () => {
  assert.deepEqual(listChanges(new MemFs().root), []);
});
