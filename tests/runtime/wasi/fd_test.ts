import assert from "node:assert/strict";
import * as W from "../../../runtime/wasi/mod.ts";
import { CollectOutput, QueueInput } from "../../../runtime/wasi/mod.ts";
import { Harness } from "./_harness.ts";

const RO = BigInt(
  W.RIGHTS_FD_READ | W.RIGHTS_FD_SEEK | W.RIGHTS_FD_TELL | W.RIGHTS_FD_FILESTAT_GET |
    W.RIGHTS_FD_READDIR,
);

function fileWith(h: Harness, path: string, content: string): number {
  h.fs.writeFile(path, content);
  const [e, fd] = h.open(path);
  assert.equal(e, 0);
  return fd;
}

Deno.test("fd_write() to stdout gathers every iovec", () => {
  const out = new CollectOutput();
  const h = new Harness({ stdout: out });
  const [iov, n] = h.iovs(h.bytes("hello "), h.bytes(""), h.bytes("world"));
  const nw = h.alloc(4);
  assert.equal(h.sys.fd_write(1, iov, n, nw), 0);
  assert.equal(h.u32(nw), 11);
  assert.equal(out.text(), "hello world");
});

Deno.test("fd_write() and fd_read() on a bad fd are BADF", () => {
  const h = new Harness({ stdin: new QueueInput(), stdout: new CollectOutput() });
  assert.equal(h.write(99, "x")[0], W.ERRNO_BADF);
  assert.equal(h.read(99)[0], W.ERRNO_BADF);
  assert.equal(h.read(1)[0], W.ERRNO_BADF); // stdout is not readable
  assert.equal(h.write(0, "x")[0], W.ERRNO_BADF); // stdin is not writable
});

Deno.test("fd_write() with an out-of-bounds iovec is FAULT and writes nothing", () => {
  const out = new CollectOutput();
  const h = new Harness({ stdout: out });
  const [iov, n] = h.iovs([4 * 65536 - 2, 10]);
  assert.equal(h.sys.fd_write(1, iov, n, h.alloc(4)), W.ERRNO_FAULT);
  assert.equal(h.sys.fd_write(1, 0xfffffff0 | 0, 1, h.alloc(4)), W.ERRNO_FAULT);
  assert.equal(h.sys.fd_write(1, iov, 0x7fffffff, h.alloc(4)), W.ERRNO_FAULT);
  // iovs_len * 8 wraps past 2^32: still FAULT, never a host RangeError.
  assert.equal(h.sys.fd_write(1, iov, 0x20000000, h.alloc(4)), W.ERRNO_FAULT);
  assert.equal(h.sys.fd_read(0, iov, 0x20000001, h.alloc(4)), W.ERRNO_FAULT);
  assert.equal(h.sys.fd_pread(0, iov, 0x20000000, 0n, h.alloc(4)), W.ERRNO_FAULT);
  assert.equal(h.sys.poll_oneoff(16, 16, 0x10000000, h.alloc(4)), W.ERRNO_FAULT);
  const [iov2] = h.iovs(h.bytes("x"));
  assert.equal(h.sys.fd_write(1, iov2, 1, -4), W.ERRNO_FAULT);
  assert.equal(out.text(), "");
});

Deno.test("fd_read() reads a file sequentially and returns 0 at EOF", () => {
  const h = new Harness();
  const fd = fileWith(h, "f.txt", "abcdef");
  assert.deepEqual(h.read(fd, 4), [0, "abcd"]);
  assert.deepEqual(h.read(fd, 4), [0, "ef"]);
  assert.deepEqual(h.read(fd, 4), [0, ""]);
});

Deno.test("fd_read() scatters into several iovecs", () => {
  const h = new Harness();
  const fd = fileWith(h, "f.txt", "abcdef");
  const a = h.alloc(2), b = h.alloc(8);
  const [iov, n] = h.iovs([a, 2], [b, 8]);
  const nr = h.alloc(4);
  assert.equal(h.sys.fd_read(fd, iov, n, nr), 0);
  assert.equal(h.u32(nr), 6);
  assert.equal(h.text(a, 2) + h.text(b, 4), "abcdef");
});

Deno.test("fd_read() from stdin bytes, then EOF", () => {
  const h = new Harness({ stdin: "line\n" });
  assert.deepEqual(h.read(0), [0, "line\n"]);
  assert.deepEqual(h.read(0), [0, ""]);
});

Deno.test("fd_read() on an empty stdin queue blocks until data arrives (Promise)", async () => {
  const q = new QueueInput();
  const h = new Harness({ stdin: q });
  const buf = h.alloc(16);
  const [iov, n] = h.iovs([buf, 16]);
  const nr = h.alloc(4);
  const r = h.sys.fd_read(0, iov, n, nr);
  assert.ok(r instanceof Promise);
  setTimeout(() => q.push("late"), 5);
  assert.equal(await r, 0);
  assert.equal(h.text(buf, h.u32(nr)), "late");
});

Deno.test("fd_read() on a non-blocking empty stdin is AGAIN", () => {
  const q = new QueueInput();
  const h = new Harness({ stdin: q });
  const flags = h.sys.fd_fdstat_set_flags(0, W.FDFLAGS_NONBLOCK);
  assert.equal(flags, 0);
  assert.equal(h.read(0)[0], W.ERRNO_AGAIN);
});

Deno.test("fd_read() on a directory is ISDIR", () => {
  const h = new Harness();
  h.fs.mkdirp("d");
  const [e, fd] = h.open("d", W.OFLAGS_DIRECTORY, RO);
  assert.equal(e, 0);
  assert.equal(h.read(fd)[0], W.ERRNO_ISDIR);
});

Deno.test("fd_seek() and fd_tell() move the cursor; negative results are INVAL", () => {
  const h = new Harness();
  const fd = fileWith(h, "f.txt", "0123456789");
  const p = h.alloc(8);
  assert.equal(h.sys.fd_seek(fd, 4n, W.WHENCE_SET, p), 0);
  assert.equal(h.u64(p), 4n);
  assert.equal(h.sys.fd_seek(fd, 2n, W.WHENCE_CUR, p), 0);
  assert.equal(h.u64(p), 6n);
  assert.equal(h.sys.fd_seek(fd, -1n, W.WHENCE_END, p), 0);
  assert.equal(h.u64(p), 9n);
  assert.deepEqual(h.read(fd), [0, "9"]);
  assert.equal(h.sys.fd_tell(fd, p), 0);
  assert.equal(h.u64(p), 10n);
  assert.equal(h.sys.fd_seek(fd, -20n, W.WHENCE_CUR, p), W.ERRNO_INVAL);
  assert.equal(h.sys.fd_seek(fd, 0n, 7, p), W.ERRNO_INVAL);
});

Deno.test("fd_seek() on stdio is SPIPE, on a directory BADF", () => {
  const h = new Harness();
  assert.equal(h.sys.fd_seek(1, 0n, 0, h.alloc(8)), W.ERRNO_SPIPE);
  assert.equal(h.sys.fd_seek(3, 0n, 0, h.alloc(8)), W.ERRNO_BADF);
});

Deno.test("fd_pread() and fd_pwrite() leave the cursor alone", () => {
  const h = new Harness({ stdout: new CollectOutput() });
  const fd = fileWith(h, "f.txt", "abcdef");
  const buf = h.alloc(3);
  const [iov, n] = h.iovs([buf, 3]);
  const out = h.alloc(4);
  assert.equal(h.sys.fd_pread(fd, iov, n, 2n, out), 0);
  assert.equal(h.text(buf, h.u32(out)), "cde");
  const [wiov, wn] = h.iovs(h.bytes("XY"));
  assert.equal(h.sys.fd_pwrite(fd, wiov, wn, 8n, out), 0);
  assert.equal(h.u32(out), 2);
  assert.deepEqual(h.read(fd, 100)[1], "abcdef\0\0XY");
  assert.equal(h.sys.fd_pread(fd, iov, n, -1n, out), W.ERRNO_INVAL);
  assert.equal(h.sys.fd_pread(1, iov, n, 0n, out), W.ERRNO_BADF);
  assert.equal(h.sys.fd_pread(0, iov, n, 0n, out), W.ERRNO_SPIPE);
});

Deno.test("O_APPEND writes always go to the end", () => {
  const h = new Harness();
  h.fs.writeFile("log", "a");
  const [e, fd] = h.open("log", 0, 0x1fffffffn, W.FDFLAGS_APPEND);
  assert.equal(e, 0);
  const p = h.alloc(8);
  h.sys.fd_seek(fd, 0n, W.WHENCE_SET, p);
  h.write(fd, "b");
  h.write(fd, "c");
  assert.equal(new TextDecoder().decode(h.fs.readFile("log")), "abc");
});

Deno.test("fd_fdstat_get() reports filetype, flags and rights", () => {
  const h = new Harness();
  const fd = fileWith(h, "f", "");
  const p = h.alloc(24);
  assert.equal(h.sys.fd_fdstat_get(fd, p), 0);
  assert.equal(h.u8[p], W.FILETYPE_REGULAR_FILE);
  assert.ok((h.u64(p + 8) & BigInt(W.RIGHTS_FD_READ)) !== 0n);
  assert.equal(h.sys.fd_fdstat_get(3, p), 0);
  assert.equal(h.u8[p], W.FILETYPE_DIRECTORY);
  assert.equal(h.sys.fd_fdstat_get(1, p), 0);
  assert.equal(h.u64(p + 8) & BigInt(W.RIGHTS_FD_SEEK), 0n);
  assert.equal(h.sys.fd_fdstat_get(77, p), W.ERRNO_BADF);
});

Deno.test("fd_fdstat_set_flags() stores append and nonblock; unknown bits are INVAL", () => {
  const h = new Harness();
  const fd = fileWith(h, "f", "");
  assert.equal(h.sys.fd_fdstat_set_flags(fd, W.FDFLAGS_APPEND | W.FDFLAGS_NONBLOCK), 0);
  const p = h.alloc(24);
  h.sys.fd_fdstat_get(fd, p);
  assert.equal(h.dv.getUint16(p + 2, true), W.FDFLAGS_APPEND | W.FDFLAGS_NONBLOCK);
  assert.equal(h.sys.fd_fdstat_set_flags(fd, 0x100), W.ERRNO_INVAL);
});

Deno.test("fd_fdstat_set_rights() can drop but never add rights", () => {
  const h = new Harness();
  const fd = fileWith(h, "f", "x");
  assert.equal(h.sys.fd_fdstat_set_rights(fd, BigInt(W.RIGHTS_FD_WRITE), 0n), 0);
  assert.equal(h.read(fd)[0], W.ERRNO_BADF);
  assert.equal(
    h.sys.fd_fdstat_set_rights(fd, BigInt(W.RIGHTS_FD_WRITE | W.RIGHTS_FD_READ), 0n),
    W.ERRNO_NOTCAPABLE,
  );
  const p = h.alloc(64);
  assert.equal(h.sys.fd_filestat_get(fd, p), W.ERRNO_NOTCAPABLE);
});

Deno.test("fd_filestat_get() reports size, type, nlink and times", () => {
  const h = new Harness();
  const fd = fileWith(h, "f", "12345");
  const p = h.alloc(64);
  assert.equal(h.sys.fd_filestat_get(fd, p), 0);
  assert.equal(h.u8[p + 16], W.FILETYPE_REGULAR_FILE);
  assert.equal(h.u64(p + 24), 1n);
  assert.equal(h.u64(p + 32), 5n);
  assert.ok(h.u64(p + 48) > 1_600_000_000_000_000_000n);
  assert.ok(h.u64(p + 8) > 0n);
});

Deno.test("fd_filestat_set_size() truncates and extends", () => {
  const h = new Harness();
  const fd = fileWith(h, "f", "12345");
  assert.equal(h.sys.fd_filestat_set_size(fd, 2n), 0);
  assert.equal(new TextDecoder().decode(h.fs.readFile("f")), "12");
  assert.equal(h.sys.fd_filestat_set_size(fd, 4n), 0);
  assert.deepEqual([...h.fs.readFile("f")], [49, 50, 0, 0]);
  assert.equal(h.sys.fd_filestat_set_size(fd, -1n), W.ERRNO_INVAL);
});

Deno.test("fd_filestat_set_times() sets exact times and NOW; contradictory flags are INVAL", () => {
  const h = new Harness();
  const fd = fileWith(h, "f", "x");
  const p = h.alloc(64);
  assert.equal(h.sys.fd_filestat_set_times(fd, 123n, 456n, W.FSTFLAGS_ATIM | W.FSTFLAGS_MTIM), 0);
  h.sys.fd_filestat_get(fd, p);
  assert.equal(h.u64(p + 40), 123n);
  assert.equal(h.u64(p + 48), 456n);
  assert.equal(h.sys.fd_filestat_set_times(fd, 0n, 0n, W.FSTFLAGS_MTIM_NOW), 0);
  h.sys.fd_filestat_get(fd, p);
  assert.equal(h.u64(p + 40), 123n);
  assert.ok(h.u64(p + 48) > 1_600_000_000_000_000_000n);
  assert.equal(
    h.sys.fd_filestat_set_times(fd, 0n, 0n, W.FSTFLAGS_ATIM | W.FSTFLAGS_ATIM_NOW),
    W.ERRNO_INVAL,
  );
  assert.equal(h.sys.fd_filestat_set_times(fd, 0n, 0n, 0x10), W.ERRNO_INVAL);
});

Deno.test("fd_advise() validates advice; fd_allocate() is NOTSUP, as in wasmtime", () => {
  const h = new Harness();
  const fd = fileWith(h, "f", "x");
  assert.equal(h.sys.fd_advise(fd, 0n, 10n, W.ADVICE_SEQUENTIAL), 0);
  assert.equal(h.sys.fd_advise(fd, 0n, 10n, 9), W.ERRNO_INVAL);
  assert.equal(h.sys.fd_allocate(fd, 0n, 100n), W.ERRNO_NOTSUP);
  assert.equal(h.fs.readFile("f").length, 1);
  assert.equal(h.sys.fd_allocate(1, 0n, 100n), W.ERRNO_BADF);
  assert.equal(h.sys.fd_allocate(99, 0n, 100n), W.ERRNO_BADF);
});

Deno.test("fd_sync() and fd_datasync() succeed on files and fail on stdio", () => {
  const h = new Harness();
  const fd = fileWith(h, "f", "x");
  assert.equal(h.sys.fd_sync(fd), 0);
  assert.equal(h.sys.fd_datasync(fd), 0);
  assert.equal(h.sys.fd_sync(99), W.ERRNO_BADF);
});

Deno.test("fd_close() frees the fd; the lowest free fd is reused", () => {
  const h = new Harness();
  const a = fileWith(h, "a", "");
  const b = fileWith(h, "b", "");
  assert.equal(b, a + 1);
  assert.equal(h.sys.fd_close(a), 0);
  assert.equal(h.sys.fd_close(a), W.ERRNO_BADF);
  assert.equal(fileWith(h, "c", ""), a);
});

Deno.test("fd_renumber() moves an fd over another, or to a free number (as wasmtime)", () => {
  const h = new Harness();
  const a = fileWith(h, "a", "AAA");
  const b = fileWith(h, "b", "BBB");
  assert.equal(h.sys.fd_renumber(a, b), 0);
  assert.deepEqual(h.read(b), [0, "AAA"]);
  assert.equal(h.read(a)[0], W.ERRNO_BADF);
  assert.equal(h.sys.fd_renumber(50, b), W.ERRNO_BADF);
  assert.equal(h.sys.fd_renumber(b, 50), 0);
  assert.equal(h.read(b)[0], W.ERRNO_BADF);
  assert.equal(h.sys.fd_seek(50, 0n, W.WHENCE_SET, h.alloc(8)), 0);
  assert.deepEqual(h.read(50), [0, "AAA"]);
  assert.equal(h.sys.fd_renumber(50, 1 << 16), W.ERRNO_BADF);
  // The lowest free number is still handed out first.
  assert.equal(fileWith(h, "c", ""), a);
});

Deno.test("fd_prestat_get() and fd_prestat_dir_name() describe preopens only", () => {
  const h = new Harness({ preopens: [{ guestPath: "/" }, { guestPath: "/sandbox", path: "/" }] });
  const p = h.alloc(8);
  assert.equal(h.sys.fd_prestat_get(4, p), 0);
  assert.equal(h.u8[p], W.PREOPENTYPE_DIR);
  assert.equal(h.u32(p + 4), 8);
  const name = h.alloc(8);
  assert.equal(h.sys.fd_prestat_dir_name(4, name, 8), 0);
  assert.equal(h.text(name, 8), "/sandbox");
  assert.equal(h.sys.fd_prestat_dir_name(4, name, 3), W.ERRNO_NAMETOOLONG);
  assert.equal(h.sys.fd_prestat_get(1, p), W.ERRNO_BADF);
  assert.equal(h.sys.fd_prestat_get(5, p), W.ERRNO_BADF);
});

function readdirAll(h: Harness, fd: number, bufLen: number): { names: string[]; calls: number } {
  const names: string[] = [];
  let cookie = 0n;
  let calls = 0;
  const buf = h.alloc(bufLen);
  const used = h.alloc(4);
  for (;;) {
    calls++;
    assert.equal(h.sys.fd_readdir(fd, buf, bufLen, cookie, used), 0);
    const n = h.u32(used);
    let off = 0;
    let progressed = false;
    while (off + 24 <= n) {
      const namlen = h.u32(buf + off + 16);
      if (off + 24 + namlen > n) break;
      names.push(h.text(buf + off + 24, namlen));
      cookie = h.u64(buf + off);
      off += 24 + namlen;
      progressed = true;
    }
    if (n < bufLen) break;
    assert.ok(progressed, "buffer too small for one entry");
  }
  return { names, calls };
}

Deno.test("fd_readdir() lists ., .. and entries, resuming from cookies", () => {
  const h = new Harness();
  for (let i = 0; i < 50; i++) h.fs.writeFile(`d/file-${i}`, "");
  const [e, fd] = h.open("d", W.OFLAGS_DIRECTORY, RO);
  assert.equal(e, 0);
  const small = readdirAll(h, fd, 64);
  const big = readdirAll(h, fd, 65536);
  assert.equal(big.calls, 1);
  assert.ok(small.calls > 10);
  assert.deepEqual(small.names, big.names);
  assert.equal(big.names.length, 52);
  assert.deepEqual(big.names.slice(0, 2), [".", ".."]);
});

Deno.test("fd_readdir() truncates the last entry to fill the buffer exactly", () => {
  const h = new Harness();
  h.fs.writeFile("d/a-long-name", "");
  const [, fd] = h.open("d", W.OFLAGS_DIRECTORY, RO);
  const buf = h.alloc(100);
  const used = h.alloc(4);
  assert.equal(h.sys.fd_readdir(fd, buf, 60, 0n, used), 0);
  assert.equal(h.u32(used), 60);
});

Deno.test("fd_readdir() past the end returns nothing; on a file it is NOTDIR", () => {
  const h = new Harness();
  h.fs.mkdirp("d");
  const [, fd] = h.open("d", W.OFLAGS_DIRECTORY, RO);
  const buf = h.alloc(100);
  const used = h.alloc(4);
  assert.equal(h.sys.fd_readdir(fd, buf, 100, 1000n, used), 0);
  assert.equal(h.u32(used), 0);
  const f = fileWith(h, "f", "");
  assert.equal(h.sys.fd_readdir(f, buf, 100, 0n, used), W.ERRNO_NOTDIR);
});

Deno.test("fd_readdir() sees entries added between calls", () => {
  const h = new Harness();
  h.fs.writeFile("d/a", "");
  const [, fd] = h.open("d", W.OFLAGS_DIRECTORY, RO);
  assert.deepEqual(readdirAll(h, fd, 4096).names, [".", "..", "a"]);
  h.fs.writeFile("d/b", "");
  assert.deepEqual(readdirAll(h, fd, 4096).names, [".", "..", "a", "b"]);
});
