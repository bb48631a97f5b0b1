import assert from "node:assert/strict";
import {
  applyChanges,
  type FsChange,
  listChanges,
  lookupPath,
  MemFs,
  overlay,
  OverlayFile,
  packageMount,
} from "../../../runtime/vfs/mod.ts";
import { assertFsError, conformance } from "./_conformance.ts";

conformance("overlay over an empty package", async () => {
  const dir = await Deno.makeTempDir({ prefix: "thaw-ovl-" });
  return {
    root: overlay(packageMount(dir)).root,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

conformance(
  "overlay over a MemFs",
  () => Promise.resolve({ root: overlay(new MemFs().root).root, cleanup: () => Promise.resolve() }),
);

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function pkg() {
  const dir = await Deno.makeTempDir({ prefix: "thaw-pkg-" });
  await Deno.mkdir(`${dir}/lib/deep`, { recursive: true });
  await Deno.writeTextFile(`${dir}/lib/a.rb`, "puts 1\n");
  await Deno.writeTextFile(`${dir}/lib/deep/b.rb`, "x".repeat(10000));
  await Deno.writeTextFile(`${dir}/README`, "readme");
  await Deno.symlink("lib/a.rb", `${dir}/main.rb`);
  return { dir, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("overlay() reads through and writes only to memory", async () => {
  const p = await pkg();
  try {
    const fs = overlay(packageMount(p.dir));
    assert.equal(text(fs.readFile("lib/a.rb")), "puts 1\n");
    assert.equal(text(fs.readFile("main.rb")), "puts 1\n");
    fs.writeFile("lib/a.rb", "puts 2\n");
    fs.writeFile("new/file", "n");
    fs.root.unlink("README");
    assert.equal(text(fs.readFile("lib/a.rb")), "puts 2\n");
    assert.equal(await Deno.readTextFile(`${p.dir}/lib/a.rb`), "puts 1\n");
    assert.equal(await Deno.readTextFile(`${p.dir}/README`), "readme");
    assert.equal(fs.lookup("README"), null);
  } finally {
    await p.cleanup();
  }
});

Deno.test("overlay() copies up lazily, on first write only", async () => {
  const p = await pkg();
  try {
    const fs = overlay(packageMount(p.dir));
    const f = lookupPath(fs.root, "lib/deep/b.rb") as OverlayFile;
    assert.ok(f instanceof OverlayFile);
    const buf = new Uint8Array(4);
    f.pread(buf, 0);
    assert.equal(f.copied, false);
    f.pwrite(new TextEncoder().encode("YY"), 2);
    assert.equal(f.copied, true);
    assert.equal(f.size(), 10000);
  } finally {
    await p.cleanup();
  }
});

Deno.test("listChanges() of an untouched overlay is empty", async () => {
  const p = await pkg();
  try {
    const fs = overlay(packageMount(p.dir));
    fs.readFile("lib/deep/b.rb");
    assert.deepEqual(listChanges(fs.root), []);
  } finally {
    await p.cleanup();
  }
});

Deno.test("listChanges() reports partial writes of copied-up files by block", async () => {
  const p = await pkg();
  try {
    const fs = overlay(packageMount(p.dir));
    const f = lookupPath(fs.root, "lib/deep/b.rb") as OverlayFile;
    f.pwrite(new TextEncoder().encode("Z"), 5000);
    const changes = listChanges(fs.root);
    const writes = changes.filter((c) => c.op === "write");
    assert.equal(writes.length, 1);
    const w = writes[0] as Extract<FsChange, { op: "write" }>;
    assert.equal(w.offset, 4096);
    assert.equal(w.data.length, 4096);
    assert.ok(!changes.some((c) => c.op === "truncate"));
  } finally {
    await p.cleanup();
  }
});

Deno.test("listChanges() + applyChanges() rebuild an overlay's state on a fresh overlay", async () => {
  const p = await pkg();
  try {
    const fs = overlay(packageMount(p.dir));
    fs.writeFile("lib/a.rb", "puts 'changed'\n");
    fs.writeFile("tmp/cache/x.bin", new Uint8Array([1, 2, 3]));
    fs.symlink("tmp/link", "cache/x.bin");
    fs.root.unlink("README");
    const lib = lookupPath(fs.root, "lib");
    if (lib.kind !== "dir") throw new Error("lib");
    lib.rename("deep", fs.root, "moved");
    fs.root.link("hard", lookupPath(fs.root, "tmp/cache/x.bin"));
    const trunc = lookupPath(fs.root, "moved/b.rb");
    if (trunc.kind === "file") trunc.open(true).truncate(3);
    const changes = listChanges(fs.root);

    const fresh = overlay(packageMount(p.dir));
    applyChanges(fresh.root, changes);
    assert.equal(text(fresh.readFile("lib/a.rb")), "puts 'changed'\n");
    assert.deepEqual([...fresh.readFile("tmp/cache/x.bin")], [1, 2, 3]);
    assert.deepEqual([...fresh.readFile("tmp/link")], [1, 2, 3]);
    assert.equal(fresh.lookup("README"), null);
    assert.equal(fresh.lookup("lib/deep"), null);
    assert.equal(text(fresh.readFile("moved/b.rb")), "xxx");
    assert.equal(lookupPath(fresh.root, "hard").stat().nlink, 2);
    // Applying again to the result changes nothing further.
    assert.deepEqual(listChanges(fresh.root).map((c) => c.op), changes.map((c) => c.op));
  } finally {
    await p.cleanup();
  }
});

Deno.test("listChanges() of a MemFs lists everything, deterministically", () => {
  const build = () => {
    const fs = new MemFs();
    fs.writeFile("a/b.txt", "hi");
    fs.symlink("a/l", "b.txt");
    fs.root.link("h", lookupPath(fs.root, "a/b.txt"));
    const f = lookupPath(fs.root, "a/b.txt");
    f.setTimes(5n, 6n);
    return fs;
  };
  const c1 = listChanges(build().root);
  const c2 = listChanges(build().root);
  assert.deepEqual(c1, c2);
  assert.deepEqual(c1.map((c) => c.op), ["mkdir", "write", "times", "symlink", "link"]);
  const fresh = new MemFs();
  applyChanges(fresh.root, c1);
  assert.equal(text(fresh.readFile("h")), "hi");
  assert.equal(lookupPath(fresh.root, "a/b.txt").stat().mtim, 6n);
});

Deno.test("listChanges() skips mounted host directories", async () => {
  const p = await pkg();
  try {
    const fs = new MemFs();
    fs.mount("/pkg", packageMount(p.dir));
    fs.writeFile("state", "s");
    assert.deepEqual(listChanges(fs.root).map((c) => c.op), ["mkdir", "write", "times"].slice(1));
  } finally {
    await p.cleanup();
  }
});

Deno.test("applyChanges() rejects unknown records and bad targets", () => {
  const fs = new MemFs();
  fs.writeFile("file", "x");
  assertFsError(
    () =>
      applyChanges(fs.root, [{
        op: "write",
        path: "file/inner",
        offset: 0,
        data: new Uint8Array(),
      }]),
    "NOTDIR",
  );
  assertFsError(() => applyChanges(fs.root, [{ op: "bogus" } as unknown as FsChange]), "INVAL");
});
