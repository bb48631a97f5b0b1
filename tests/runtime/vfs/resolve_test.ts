import assert from "node:assert/strict";
import { lookupPath, MAX_SYMLINKS, MemFs, resolve } from "../../../runtime/vfs/mod.ts";
import { assertFsError } from "./_conformance.ts";

function tree() {
  const fs = new MemFs();
  fs.writeFile("a/b/c.txt", "C");
  fs.symlink("a/up", "..");
  fs.symlink("a/abs", "/a");
  fs.symlink("a/rel", "b/c.txt");
  fs.symlink("loop1", "loop2");
  fs.symlink("loop2", "loop1");
  fs.symlink("dangling", "nothing/here");
  fs.symlink("dirlink", "a/b");
  return fs;
}

Deno.test("resolve() returns the parent dir, the name and the node", () => {
  const fs = tree();
  const r = resolve(fs.root, "a/b/c.txt", true);
  assert.equal(r.name, "c.txt");
  assert.equal(r.node?.kind, "file");
  assert.equal(r.dir, lookupPath(fs.root, "a/b"));
});

Deno.test("resolve() of a missing final component gives node null", () => {
  const r = resolve(tree().root, "a/b/new.txt", true);
  assert.equal(r.node, null);
  assert.equal(r.name, "new.txt");
});

Deno.test("resolve() refuses a missing middle component with NOENT", () => {
  assertFsError(() => resolve(tree().root, "a/x/y", true), "NOENT");
  assertFsError(() => resolve(tree().root, "", true), "NOENT");
});

Deno.test("resolve() refuses a file used as a directory with NOTDIR", () => {
  assertFsError(() => resolve(tree().root, "a/b/c.txt/d", true), "NOTDIR");
  assertFsError(() => resolve(tree().root, "a/b/c.txt/", true), "NOTDIR");
});

Deno.test("resolve() names the start directory for '.', '' components and 'x/..'", () => {
  const fs = tree();
  for (const p of [".", "./", "a/..", "a/b/../..", ".//."]) {
    const r = resolve(fs.root, p, true);
    assert.equal(r.node, fs.root, p);
    assert.equal(r.name, ".");
  }
});

Deno.test("resolve() follows relative symlinks in the middle and, when asked, at the end", () => {
  const fs = tree();
  assert.equal(resolve(fs.root, "a/rel", true).node?.kind, "file");
  assert.equal(resolve(fs.root, "a/rel", false).node?.kind, "symlink");
  assert.equal(resolve(fs.root, "dirlink/c.txt", false).node?.kind, "file");
  assert.equal(resolve(fs.root, "dirlink/", false).node?.kind, "dir");
  assert.equal(resolve(fs.root, "a/up/a/b/c.txt", true).node?.kind, "file");
});

Deno.test("resolve() refuses absolute paths and absolute symlinks with PERM", () => {
  assertFsError(() => resolve(tree().root, "/a", true), "PERM");
  assertFsError(() => resolve(tree().root, "a/abs/b", true), "PERM");
  assertFsError(() => resolve(tree().root, "a/abs", true), "PERM");
});

Deno.test("resolve() treats the start directory as the root: '..' above it is PERM", () => {
  const fs = tree();
  const a = lookupPath(fs.root, "a");
  if (a.kind !== "dir") throw new Error("a");
  assertFsError(() => resolve(a, "..", true), "PERM");
  assertFsError(() => resolve(a, "up/a", true), "PERM");
  assertFsError(() => resolve(a, "b/../../a", true), "PERM");
});

Deno.test("resolve() reports symlink loops with LOOP", () => {
  assertFsError(() => resolve(tree().root, "loop1", true), "LOOP");
  assertFsError(() => resolve(tree().root, "loop1/x", false), "LOOP");
  assert.equal(resolve(tree().root, "loop1", false).node?.kind, "symlink");
});

Deno.test("resolve() allows exactly MAX_SYMLINKS expansions", () => {
  const fs = new MemFs();
  fs.writeFile("end", "E");
  fs.symlink("l0", "end");
  for (let i = 1; i <= MAX_SYMLINKS; i++) fs.symlink(`l${i}`, `l${i - 1}`);
  assertFsError(() => resolve(fs.root, `l${MAX_SYMLINKS}`, true), "LOOP");
  assert.equal(resolve(fs.root, `l${MAX_SYMLINKS - 1}`, true).node?.kind, "file");
});

Deno.test("resolve() of a dangling symlink followed gives its target's slot", () => {
  assertFsError(() => resolve(tree().root, "dangling", true), "NOENT");
  const fs = new MemFs();
  fs.symlink("d", "target.txt");
  const r = resolve(fs.root, "d", true);
  assert.equal(r.node, null);
  assert.equal(r.name, "target.txt");
});

Deno.test("resolve() refuses NUL bytes with INVAL", () => {
  assertFsError(() => resolve(tree().root, "a\0b", true), "INVAL");
});
