import assert from "node:assert/strict";
import { hostMount, MemFs, packageMount } from "../../../runtime/vfs/mod.ts";
import * as W from "../../../runtime/wasi/mod.ts";
import { Harness } from "./_harness.ts";

const DIR = W.OFLAGS_DIRECTORY;
const CREAT = W.OFLAGS_CREAT;
const EXCL = W.OFLAGS_EXCL;
const TRUNC = W.OFLAGS_TRUNC;
const READ_ONLY = BigInt(W.RIGHTS_FD_READ | W.RIGHTS_FD_SEEK | W.RIGHTS_FD_FILESTAT_GET);

function call(h: Harness, name: string, path: string, ...rest: unknown[]): number {
  const [p, l] = h.bytes(path);
  return h.sys[name](3, p, l, ...rest);
}

function stat(h: Harness, path: string, follow = true): [number, bigint, number] {
  const [p, l] = h.bytes(path);
  const buf = h.alloc(64);
  const e = h.sys.path_filestat_get(3, follow ? 1 : 0, p, l, buf);
  return [e, h.u64(buf + 32), h.u8[buf + 16]];
}

Deno.test("path_open() creates with CREAT, refuses EXCL on existing files", () => {
  const h = new Harness();
  assert.equal(h.open("new.txt")[0], W.ERRNO_NOENT);
  const [e, fd] = h.open("new.txt", CREAT);
  assert.equal(e, 0);
  assert.equal(h.write(fd, "x")[0], 0);
  assert.equal(h.open("new.txt", CREAT | EXCL)[0], W.ERRNO_EXIST);
  assert.equal(h.open("new.txt", CREAT)[0], 0);
});

Deno.test("path_open() TRUNC empties the file", () => {
  const h = new Harness();
  h.fs.writeFile("f", "12345");
  assert.equal(h.open("f", TRUNC)[0], 0);
  assert.equal(h.fs.readFile("f").length, 0);
});

Deno.test("path_open() with DIRECTORY on a file is NOTDIR; writing a dir is ISDIR", () => {
  const h = new Harness();
  h.fs.writeFile("f", "");
  h.fs.mkdirp("d");
  assert.equal(h.open("f", DIR)[0], W.ERRNO_NOTDIR);
  assert.equal(h.open("f/", 0)[0], W.ERRNO_NOTDIR);
  assert.equal(h.open("d", 0)[0], W.ERRNO_ISDIR);
  assert.equal(h.open("d", TRUNC, READ_ONLY)[0], W.ERRNO_ISDIR);
  assert.equal(h.open("d", 0, READ_ONLY)[0], 0);
  assert.equal(h.open("d", DIR, READ_ONLY)[0], 0);
  // wasmtime: FD_WRITE asks for a writable open, refused for a directory even with DIRECTORY.
  assert.equal(h.open("d", DIR)[0], W.ERRNO_ISDIR);
  assert.equal(h.open("nd", CREAT | DIR)[0], W.ERRNO_INVAL);
  assert.equal(h.open("nd/", CREAT)[0], W.ERRNO_ISDIR);
});

Deno.test("path_open() without SYMLINK_FOLLOW on a symlink is LOOP; with it, follows", () => {
  const h = new Harness();
  h.fs.writeFile("t", "target");
  h.fs.symlink("l", "t");
  assert.equal(h.open("l", 0, READ_ONLY, 0, 0)[0], W.ERRNO_LOOP);
  const [e, fd] = h.open("l", 0, READ_ONLY, 0, 1);
  assert.equal(e, 0);
  assert.deepEqual(h.read(fd), [0, "target"]);
  assert.equal(h.open("l", CREAT | EXCL, READ_ONLY, 0, 1)[0], W.ERRNO_EXIST);
});

Deno.test("path_open() through a dangling symlink with CREAT creates the target", () => {
  const h = new Harness();
  h.fs.symlink("l", "made.txt");
  assert.equal(h.open("l", CREAT)[0], 0);
  assert.equal(h.fs.lookup("made.txt")?.kind, "file");
});

Deno.test("path_open() refuses escapes from the preopen with PERM", () => {
  const fs = new MemFs();
  fs.writeFile("secret", "S");
  fs.mkdirp("sandbox/sub");
  fs.symlink("sandbox/up", "..");
  fs.symlink("sandbox/abs", "/secret");
  const h = new Harness({ fs, preopens: [{ guestPath: "/sandbox", path: "/sandbox" }] });
  for (const p of ["../secret", "/secret", "sub/../../secret", "up/secret", "abs", "sub/../up"]) {
    assert.equal(h.open(p, 0, READ_ONLY)[0], W.ERRNO_PERM, p);
  }
  assert.equal(h.open("..", DIR, READ_ONLY)[0], W.ERRNO_PERM);
});

Deno.test("path_open() of a subdirectory is confined to that subdirectory", () => {
  const h = new Harness();
  h.fs.writeFile("top", "T");
  h.fs.mkdirp("d");
  const [, d] = h.open("d", DIR, BigInt(W.RIGHTS_DIR));
  assert.equal(h.open("../top", 0, READ_ONLY, 0, 1, d)[0], W.ERRNO_PERM);
});

Deno.test("path_open() on a read-only preopen refuses writes, allows reads", () => {
  const fs = new MemFs();
  fs.writeFile("ro/f", "data");
  const h = new Harness({ fs, preopens: [{ guestPath: "/ro", path: "/ro", readOnly: true }] });
  assert.equal(h.open("f", 0, BigInt(W.RIGHTS_FD_WRITE))[0], W.ERRNO_NOTCAPABLE);
  assert.equal(h.open("g", CREAT, READ_ONLY)[0], W.ERRNO_NOTCAPABLE);
  assert.equal(call(h, "path_create_directory", "x"), W.ERRNO_NOTCAPABLE);
  assert.equal(call(h, "path_unlink_file", "f"), W.ERRNO_NOTCAPABLE);
  const [e, fd] = h.open("f", 0, READ_ONLY);
  assert.equal(e, 0);
  assert.deepEqual(h.read(fd), [0, "data"]);
  assert.equal(h.write(fd, "x")[0], W.ERRNO_BADF);
});

Deno.test("path_open() with O_TRUNC on a read-only preopen refuses and keeps the file", () => {
  const fs = new MemFs();
  fs.writeFile("ro/f", "data");
  const h = new Harness({ fs, preopens: [{ guestPath: "/ro", path: "/ro", readOnly: true }] });
  assert.equal(h.open("f", TRUNC, READ_ONLY)[0], W.ERRNO_NOTCAPABLE);
  const [e, fd] = h.open("f", 0, READ_ONLY);
  assert.equal(e, 0);
  assert.deepEqual(h.read(fd), [0, "data"]);
});

Deno.test("path_open() on a package mount answers ROFS for writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "thaw-pkg-" });
  try {
    await Deno.writeTextFile(`${dir}/f`, "pkg");
    const h = new Harness({ preopens: [{ guestPath: "/pkg", dir: packageMount(dir) }] });
    assert.equal(h.open("f", 0, BigInt(W.RIGHTS_FD_READ | W.RIGHTS_FD_WRITE))[0], W.ERRNO_ROFS);
    assert.equal(h.open("new", CREAT)[0], W.ERRNO_ROFS);
    assert.equal(call(h, "path_create_directory", "x"), W.ERRNO_ROFS);
    const [e, fd] = h.open("f", 0, READ_ONLY);
    assert.equal(e, 0);
    assert.deepEqual(h.read(fd), [0, "pkg"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("path syscalls on a host mount never reach outside it", async () => {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "thaw-host-" }));
  try {
    await Deno.mkdir(`${base}/in`);
    await Deno.writeTextFile(`${base}/secret`, "S");
    await Deno.symlink("../secret", `${base}/in/link`);
    const h = new Harness({ preopens: [{ guestPath: "/data", dir: hostMount(`${base}/in`) }] });
    assert.equal(h.open("../secret", 0, READ_ONLY)[0], W.ERRNO_PERM);
    assert.equal(h.open("link", 0, READ_ONLY)[0], W.ERRNO_PERM);
    assert.equal(call(h, "path_unlink_file", "../secret"), W.ERRNO_PERM);
    assert.equal(call(h, "path_create_directory", "../evil"), W.ERRNO_PERM);
    const [t, tl] = h.bytes("/etc/passwd");
    const [n, nl] = h.bytes("abs");
    assert.equal(h.sys.path_symlink(t, tl, 3, n, nl), W.ERRNO_PERM);
    // Normal use works.
    const [e, fd] = h.open("hello.txt", CREAT);
    assert.equal(e, 0);
    h.write(fd, "hi");
    assert.equal(h.sys.fd_close(fd), 0); // small writes are buffered until close or a yield
    assert.equal(await Deno.readTextFile(`${base}/in/hello.txt`), "hi");
    assert.equal(await Deno.readTextFile(`${base}/secret`), "S");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a stale directory fd cannot follow a symlink the guest swapped in (host mount)", async () => {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "thaw-swap-" }));
  try {
    await Deno.mkdir(`${base}/in/d`, { recursive: true });
    await Deno.mkdir(`${base}/out`);
    await Deno.writeTextFile(`${base}/out/secret.txt`, "S");
    const h = new Harness({ preopens: [{ guestPath: "/data", dir: hostMount(`${base}/in`) }] });
    const [e, dfd] = h.open("d", DIR, BigInt(W.RIGHTS_DIR));
    assert.equal(e, 0);
    assert.equal(rename(h, "d", "d2"), 0);
    const [t, tl] = h.bytes("../out");
    const [n, nl] = h.bytes("d");
    assert.equal(h.sys.path_symlink(t, tl, 3, n, nl), 0); // relative: allowed, resolved by Thaw
    // Through the stale fd, the host path in/d now leads outside: every use is refused.
    assert.equal(h.open("secret.txt", 0, READ_ONLY, 0, 1, dfd)[0], W.ERRNO_PERM);
    const [p, l] = h.bytes("secret.txt");
    assert.equal(h.sys.path_filestat_get(dfd, 0, p, l, h.alloc(64)), W.ERRNO_PERM);
    assert.equal(h.sys.path_unlink_file(dfd, p, l), W.ERRNO_PERM);
    assert.equal(h.sys.fd_readdir(dfd, h.alloc(256), 256, 0n, h.alloc(4)), W.ERRNO_PERM);
    // And through the preopen, the symlink itself is resolved inside the sandbox (escape: PERM).
    assert.equal(h.open("d/secret.txt", 0, READ_ONLY)[0], W.ERRNO_PERM);
    assert.equal(await Deno.readTextFile(`${base}/out/secret.txt`), "S");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("path_create_directory() and path_remove_directory()", () => {
  const h = new Harness();
  assert.equal(call(h, "path_create_directory", "a"), 0);
  assert.equal(call(h, "path_create_directory", "a"), W.ERRNO_EXIST);
  assert.equal(call(h, "path_create_directory", "x/y"), W.ERRNO_NOENT);
  assert.equal(call(h, "path_create_directory", "."), W.ERRNO_EXIST);
  h.fs.writeFile("a/f", "");
  assert.equal(call(h, "path_remove_directory", "a"), W.ERRNO_NOTEMPTY);
  assert.equal(call(h, "path_remove_directory", "a/f"), W.ERRNO_NOTDIR);
  assert.equal(call(h, "path_remove_directory", "."), W.ERRNO_INVAL);
  assert.equal(call(h, "path_unlink_file", "a/f"), 0);
  assert.equal(call(h, "path_remove_directory", "a"), 0);
  assert.equal(call(h, "path_remove_directory", "a"), W.ERRNO_NOENT);
});

Deno.test("path_unlink_file() removes files and symlinks, not directories", () => {
  const h = new Harness();
  h.fs.writeFile("f", "");
  h.fs.symlink("l", "f");
  h.fs.mkdirp("d");
  assert.equal(call(h, "path_unlink_file", "l"), 0);
  assert.equal(h.fs.lookup("f")?.kind, "file");
  assert.equal(call(h, "path_unlink_file", "d"), W.ERRNO_ISDIR);
  assert.equal(call(h, "path_unlink_file", "f/"), W.ERRNO_NOTDIR);
  assert.equal(call(h, "path_unlink_file", "missing"), W.ERRNO_NOENT);
});

Deno.test("an unlinked file stays readable through an open fd", () => {
  const h = new Harness();
  h.fs.writeFile("f", "still here");
  const [, fd] = h.open("f");
  assert.equal(call(h, "path_unlink_file", "f"), 0);
  assert.deepEqual(h.read(fd), [0, "still here"]);
});

function rename(h: Harness, a: string, b: string): number {
  const [p1, l1] = h.bytes(a);
  const [p2, l2] = h.bytes(b);
  return h.sys.path_rename(3, p1, l1, 3, p2, l2);
}

Deno.test("path_rename() moves and replaces with POSIX semantics", () => {
  const h = new Harness();
  h.fs.writeFile("a", "A");
  h.fs.writeFile("b", "B");
  h.fs.mkdirp("d1/x");
  h.fs.mkdirp("d2");
  h.fs.mkdirp("empty");
  assert.equal(rename(h, "a", "b"), 0);
  assert.equal(new TextDecoder().decode(h.fs.readFile("b")), "A");
  assert.equal(rename(h, "b", "d2"), W.ERRNO_ISDIR);
  assert.equal(rename(h, "d2", "b"), W.ERRNO_NOTDIR);
  assert.equal(rename(h, "empty", "d1"), W.ERRNO_NOTEMPTY);
  assert.equal(rename(h, "d2", "empty"), 0);
  assert.equal(rename(h, "d1", "d1/x/inside"), W.ERRNO_INVAL);
  assert.equal(rename(h, "missing", "z"), W.ERRNO_NOENT);
  assert.equal(rename(h, "b", "b"), 0);
  assert.equal(rename(h, "b", "nodir/"), W.ERRNO_NOTDIR);
});

Deno.test("path_link() makes hard links; directories are PERM", () => {
  const h = new Harness();
  h.fs.writeFile("f", "F");
  h.fs.mkdirp("d");
  const link = (a: string, b: string, flags = 0) => {
    const [p1, l1] = h.bytes(a);
    const [p2, l2] = h.bytes(b);
    return h.sys.path_link(3, flags, p1, l1, 3, p2, l2);
  };
  assert.equal(link("f", "g"), 0);
  assert.equal(stat(h, "f")[0], 0);
  const [p, l] = h.bytes("f");
  const buf = h.alloc(64);
  h.sys.path_filestat_get(3, 0, p, l, buf);
  assert.equal(h.u64(buf + 24), 2n);
  assert.equal(link("f", "g"), W.ERRNO_EXIST);
  assert.equal(link("d", "d2"), W.ERRNO_PERM);
  assert.equal(link("missing", "x"), W.ERRNO_NOENT);
});

Deno.test("path_symlink() and path_readlink()", () => {
  const h = new Harness();
  const [t, tl] = h.bytes("some/target");
  const [n, nl] = h.bytes("l");
  assert.equal(h.sys.path_symlink(t, tl, 3, n, nl), 0);
  assert.equal(h.sys.path_symlink(t, tl, 3, n, nl), W.ERRNO_EXIST);
  const buf = h.alloc(64);
  const used = h.alloc(4);
  assert.equal(h.sys.path_readlink(3, n, nl, buf, 64, used), 0);
  assert.equal(h.text(buf, h.u32(used)), "some/target");
  assert.equal(h.sys.path_readlink(3, n, nl, buf, 4, used), 0);
  assert.equal(h.u32(used), 4);
  h.fs.writeFile("f", "");
  const [f, fl] = h.bytes("f");
  assert.equal(h.sys.path_readlink(3, f, fl, buf, 64, used), W.ERRNO_INVAL);
  assert.equal(stat(h, "l", false)[2], W.FILETYPE_SYMBOLIC_LINK);
});

Deno.test("path_filestat_get() follows symlinks only with SYMLINK_FOLLOW", () => {
  const h = new Harness();
  h.fs.writeFile("f", "12345");
  h.fs.symlink("l", "f");
  assert.deepEqual(stat(h, "l", true), [0, 5n, W.FILETYPE_REGULAR_FILE]);
  assert.equal(stat(h, "l", false)[2], W.FILETYPE_SYMBOLIC_LINK);
  assert.equal(stat(h, "missing")[0], W.ERRNO_NOENT);
  assert.equal(stat(h, "f/x")[0], W.ERRNO_NOTDIR);
});

Deno.test("path_filestat_set_times() sets times by path", () => {
  const h = new Harness();
  h.fs.writeFile("f", "");
  const [p, l] = h.bytes("f");
  assert.equal(
    h.sys.path_filestat_set_times(3, 1, p, l, 10n, 20n, W.FSTFLAGS_ATIM | W.FSTFLAGS_MTIM),
    0,
  );
  const buf = h.alloc(64);
  h.sys.path_filestat_get(3, 1, p, l, buf);
  assert.equal(h.u64(buf + 40), 10n);
  assert.equal(h.u64(buf + 48), 20n);
  assert.equal(
    h.sys.path_filestat_set_times(3, 1, p, l, 0n, 0n, W.FSTFLAGS_MTIM | W.FSTFLAGS_MTIM_NOW),
    W.ERRNO_INVAL,
  );
});

Deno.test("path syscalls on a non-directory fd are NOTDIR, on a bad fd BADF", () => {
  const h = new Harness();
  h.fs.writeFile("f", "");
  const [, fd] = h.open("f");
  const [p, l] = h.bytes("x");
  assert.equal(h.sys.path_create_directory(fd, p, l), W.ERRNO_NOTDIR);
  assert.equal(h.sys.path_create_directory(99, p, l), W.ERRNO_BADF);
});

Deno.test("path arguments out of bounds are FAULT; invalid UTF-8 is ILSEQ", () => {
  const h = new Harness();
  assert.equal(h.sys.path_create_directory(3, 4 * 65536 - 1, 5), W.ERRNO_FAULT);
  const [p, l] = h.bytes(new Uint8Array([0xff, 0xfe]));
  assert.equal(h.sys.path_create_directory(3, p, l), W.ERRNO_ILSEQ);
  const [q, ql] = h.bytes("ok");
  assert.equal(h.sys.path_open(3, 0, q, ql, CREAT, 0n, 0n, 0, 4 * 65536), W.ERRNO_FAULT);
  assert.equal(h.fs.lookup("ok"), null);
});

Deno.test("an open host file keeps answering fd_filestat_get after it is renamed or unlinked", async () => {
  const dir = await Deno.makeTempDir({ prefix: "thaw-fstat-" });
  try {
    await Deno.writeTextFile(`${dir}/f`, "12345");
    const h = new Harness({ preopens: [{ guestPath: "/data", dir: hostMount(dir) }] });
    const [e, fd] = h.open("f");
    assert.equal(e, 0);
    assert.equal(rename(h, "f", "g"), 0);
    const buf = h.alloc(64);
    assert.equal(h.sys.fd_filestat_get(fd, buf), 0);
    assert.equal(h.u64(buf + 32), 5n);
    assert.equal(call(h, "path_unlink_file", "g"), 0);
    assert.equal(h.sys.fd_filestat_get(fd, buf), 0);
    assert.equal(h.sys.fd_filestat_set_times(fd, 0n, 2_000_000_000_000n, W.FSTFLAGS_MTIM), 0);
    assert.deepEqual(h.read(fd), [0, "12345"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
