import assert from "node:assert/strict";
import * as W from "../../../runtime/wasi/mod.ts";
import { Handle } from "../../../runtime/wasi/mod.ts";
import { Harness } from "./_harness.ts";

/** A toy stream socket: a listening side that yields connected echo sockets. */
class ToySocket extends Handle {
  pending: ToySocket[] = [];
  inbox: number[] = [];
  sent: number[] = [];
  shut = 0;
  #waiters: (() => void)[] = [];

  override get filetype(): number {
    return W.FILETYPE_SOCKET_STREAM;
  }

  override get maxRights(): number {
    return W.RIGHTS_SOCKET;
  }

  override pollReadable(): boolean {
    return this.pending.length > 0 || this.inbox.length > 0;
  }

  override waitReadable(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }

  deliver(bytes: number[]): void {
    this.inbox.push(...bytes);
    this.#waiters.splice(0).forEach((w) => w());
  }

  connect(s: ToySocket): void {
    this.pending.push(s);
    this.#waiters.splice(0).forEach((w) => w());
  }

  override sockAccept(): Handle {
    const s = this.pending.shift();
    if (!s) throw new W.WasiError("none", W.ERRNO_AGAIN);
    return s;
  }

  override sockRecv(dst: Uint8Array): number {
    const n = Math.min(dst.length, this.inbox.length);
    dst.set(this.inbox.splice(0, n));
    return n;
  }

  override sockSend(src: Uint8Array): number {
    this.sent.push(...src);
    return src.length;
  }

  override sockShutdown(how: number): void {
    this.shut = how;
  }
}

function install(h: Harness, s: Handle): number {
  return h.proc.fds.insert({ handle: s, rightsBase: s.maxRights, rightsInheriting: 0, fdflags: 0 });
}

Deno.test("sock_* on a non-socket are NOTSOCK", () => {
  const h = new Harness();
  h.fs.writeFile("f", "");
  const [, fd] = h.open("f");
  const [iov, n] = h.iovs([h.alloc(4), 4]);
  assert.equal(h.sys.sock_accept(fd, 0, h.alloc(4)), W.ERRNO_NOTSOCK);
  assert.equal(h.sys.sock_recv(fd, iov, n, 0, h.alloc(4), h.alloc(4)), W.ERRNO_NOTSOCK);
  assert.equal(h.sys.sock_send(fd, iov, n, 0, h.alloc(4)), W.ERRNO_NOTSOCK);
  assert.equal(h.sys.sock_shutdown(fd, W.SDFLAGS_WR), W.ERRNO_NOTSOCK);
  assert.equal(h.sys.sock_shutdown(1, W.SDFLAGS_WR), W.ERRNO_NOTSOCK);
  assert.equal(h.sys.sock_accept(99, 0, h.alloc(4)), W.ERRNO_BADF);
});

Deno.test("sock_accept() blocks until a connection arrives, then installs it", async () => {
  const h = new Harness();
  const listener = new ToySocket();
  const lfd = install(h, listener);
  const out = h.alloc(4);
  const points: W.BlockPoint[] = [];
  h.proc.blockHook = (p) => (points.push(p), "block");
  const r = h.sys.sock_accept(lfd, 0, out);
  assert.ok(r instanceof Promise);
  const conn = new ToySocket();
  listener.connect(conn);
  assert.equal(await r, 0);
  assert.equal(h.proc.fds.handle(h.u32(out)), conn);
  assert.deepEqual(points, [{ syscall: "sock_accept", reason: "accept", fd: lfd }]);
});

Deno.test("sock_accept() with NONBLOCK on an idle listener is AGAIN", () => {
  const h = new Harness();
  const lfd = install(h, new ToySocket());
  h.sys.fd_fdstat_set_flags(lfd, W.FDFLAGS_NONBLOCK);
  assert.equal(h.sys.sock_accept(lfd, 0, h.alloc(4)), W.ERRNO_AGAIN);
});

Deno.test("sock_recv() waits for data; sock_send() and sock_shutdown() reach the handle", async () => {
  const h = new Harness();
  const s = new ToySocket();
  const fd = install(h, s);
  const buf = h.alloc(8);
  const [iov, n] = h.iovs([buf, 8]);
  const nr = h.alloc(4);
  const r = h.sys.sock_recv(fd, iov, n, 0, nr, h.alloc(4));
  assert.ok(r instanceof Promise);
  s.deliver([104, 105]);
  assert.equal(await r, 0);
  assert.equal(h.text(buf, h.u32(nr)), "hi");
  const [siov, sn] = h.iovs(h.bytes("yo"));
  const ns = h.alloc(4);
  assert.equal(h.sys.sock_send(fd, siov, sn, 0, ns), 0);
  assert.equal(h.u32(ns), 2);
  assert.deepEqual(s.sent, [121, 111]);
  assert.equal(h.sys.sock_shutdown(fd, W.SDFLAGS_RD | W.SDFLAGS_WR), 0);
  assert.equal(s.shut, 3);
  assert.equal(h.sys.sock_shutdown(fd, 0), W.ERRNO_INVAL);
});

Deno.test("fd_read() on a socket handle blocks through readiness too", async () => {
  const h = new Harness();
  const s = new ToySocket();
  s.read = (dst: Uint8Array) => s.sockRecv(dst);
  const fd = install(h, s);
  const buf = h.alloc(8);
  const [iov, n] = h.iovs([buf, 8]);
  const nr = h.alloc(4);
  const r = h.sys.fd_read(fd, iov, n, nr);
  assert.ok(r instanceof Promise);
  s.deliver([1, 2, 3]);
  assert.equal(await r, 0);
  assert.equal(h.u32(nr), 3);
});
