// One conformance suite for every DirNode backend (MemFs, host mounts, overlays).
import assert from "node:assert/strict";
import {
  type DirNode,
  FsError,
  lookupPath,
  readFileAt,
  resolve,
  writeFileAt,
} from "../../../runtime/vfs/mod.ts";

/** Asserts that `fn` throws an FsError with `code`. */
export function assertFsError(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FsError, `expected FsError(${code}), got ${e}`);
    assert.equal(e.code, code);
    return true;
  });
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Registers the shared tests; `make` returns a fresh, empty, writable root and a cleanup. */
export function conformance(
  backend: string,
  make: () => Promise<{ root: DirNode; cleanup: () => Promise<void> }>,
): void {
  const t = (name: string, fn: (root: DirNode) => void) =>
    Deno.test(`${backend}: ${name}`, async () => {
      const { root, cleanup } = await make();
      try {
        fn(root);
      } finally {
        await cleanup();
      }
    });

  t("creates, writes and reads files", (root) => {
    writeFileAt(root, "a.txt", "hello");
    assert.equal(text(readFileAt(root, "a.txt")), "hello");
    const node = lookupPath(root, "a.txt");
    assert.equal(node.kind, "file");
    assert.equal(node.stat().size, 5);
  });

  t("createFile refuses an existing name with EXIST", (root) => {
    root.createFile("x");
    assertFsError(() => root.createFile("x"), "EXIST");
    assertFsError(() => root.mkdir("x"), "EXIST");
  });

  t("pread/pwrite at offsets and truncate", (root) => {
    const f = root.createFile("f");
    const io = f.open(true);
    io.pwrite(new TextEncoder().encode("abcdef"), 0);
    io.pwrite(new TextEncoder().encode("XY"), 8);
    assert.equal(io.size(), 10);
    const buf = new Uint8Array(10);
    assert.equal(io.pread(buf, 0), 10);
    assert.deepEqual([...buf.subarray(6, 8)], [0, 0]);
    io.truncate(3);
    assert.equal(io.size(), 3);
    assert.equal(io.pread(buf, 5), 0);
    io.close();
  });

  t("mkdir, rmdir: NOTEMPTY, NOTDIR, NOENT", (root) => {
    const d = root.mkdir("d");
    d.createFile("inner");
    assertFsError(() => root.rmdir("d"), "NOTEMPTY");
    d.unlink("inner");
    root.rmdir("d");
    assert.equal(root.lookup("d"), null);
    root.createFile("file");
    assertFsError(() => root.rmdir("file"), "NOTDIR");
    assertFsError(() => root.rmdir("nothing"), "NOENT");
  });

  t("unlink of a directory is ISDIR", (root) => {
    root.mkdir("d");
    assertFsError(() => root.unlink("d"), "ISDIR");
    assertFsError(() => root.unlink("missing"), "NOENT");
  });

  t("rename replaces files and empty dirs, refuses mismatches", (root) => {
    writeFileAt(root, "a", "A");
    writeFileAt(root, "b", "B");
    root.rename("a", root, "b");
    assert.equal(text(readFileAt(root, "b")), "A");
    assert.equal(root.lookup("a"), null);
    root.mkdir("d1");
    root.mkdir("d2");
    root.rename("d1", root, "d2");
    assert.equal(root.lookup("d1"), null);
    assertFsError(() => root.rename("b", root, "d2"), "ISDIR");
    assertFsError(() => root.rename("d2", root, "b"), "NOTDIR");
    const d3 = root.mkdir("d3");
    d3.createFile("x");
    root.mkdir("d4");
    assertFsError(() => root.rename("d4", root, "d3"), "NOTEMPTY");
  });

  t("rename into another directory", (root) => {
    const sub = root.mkdir("sub");
    writeFileAt(root, "f", "data");
    root.rename("f", sub, "g");
    assert.equal(text(readFileAt(root, "sub/g")), "data");
  });

  t("a directory cannot move into itself", (root) => {
    const a = root.mkdir("a");
    const b = a.mkdir("b");
    assert.throws(() => root.rename("a", b, "c"));
  });

  t("symlinks are stored verbatim and resolved by the vfs", (root) => {
    root.mkdir("dir");
    writeFileAt(root, "dir/target", "T");
    root.symlink("link", "dir/target");
    const l = lookupPath(root, "link", false);
    assert.equal(l.kind, "symlink");
    assert.equal(l.kind === "symlink" && l.readlink(), "dir/target");
    assert.equal(text(readFileAt(root, "link")), "T");
  });

  t("hard links share contents and count nlink", (root) => {
    writeFileAt(root, "a", "1");
    const a = lookupPath(root, "a");
    root.link("b", a);
    assert.equal(lookupPath(root, "a").stat().nlink, 2);
    writeFileAt(root, "b", "22");
    assert.equal(text(readFileAt(root, "a")), "22");
    root.unlink("a");
    assert.equal(text(readFileAt(root, "b")), "22");
    assert.equal(lookupPath(root, "b").stat().nlink, 1);
  });

  t("names lists entries without . and ..", (root) => {
    root.createFile("one");
    root.mkdir("two");
    assert.deepEqual([...root.names()].sort(), ["one", "two"]);
  });

  t("setTimes sets exact nanoseconds on files", (root) => {
    writeFileAt(root, "t", "x");
    const f = lookupPath(root, "t");
    f.setTimes(1_000_000_000_000_000_000n, 1_500_000_000_000_000_000n);
    const st = f.stat();
    // Host file systems keep at least millisecond precision.
    assert.equal(st.atim / 1_000_000n, 1_000_000_000_000n);
    assert.equal(st.mtim / 1_000_000n, 1_500_000_000_000n);
    f.setTimes(null, 2_000_000_000_000_000_000n);
    assert.equal(f.stat().atim / 1_000_000n, 1_000_000_000_000n);
  });

  t("resolve walks .. inside the tree", (root) => {
    root.mkdir("a").mkdir("b");
    writeFileAt(root, "a/f", "F");
    const r = resolve(root, "a/b/../f", true);
    assert.equal(r.name, "f");
    assert.equal(r.node?.kind, "file");
  });
}
