/** WASIX syscall tables called directly, without a guest: hooks, errors, blocking imports. */
import assert from "node:assert/strict";
import {
  type BlockPoint,
  ERRNO_AGAIN,
  ERRNO_BADF,
  ERRNO_FAULT,
  ERRNO_NOTSUP,
  Process,
  UNWIND,
} from "../../../runtime/wasi/mod.ts";
import { VirtualNetwork } from "../../../runtime/vnet/mod.ts";
import {
  EpollHandle,
  processNetwork,
  SocketHandle,
  UNSUPPORTED_CALLS,
  WASIX_BLOCKING_IMPORTS,
  WASIX_MODULE,
  wasixImports,
} from "../../../runtime/wasix/mod.ts";

function setup(net = new VirtualNetwork()) {
  const proc = new Process({ jspi: false });
  proc.mem.bind(new WebAssembly.Memory({ initial: 1 }));
  // deno-lint-ignore no-explicit-any
  const imports = wasixImports(proc, { net }) as Record<string, (...a: any[]) => any>;
  return { proc, imports, net };
}

Deno.test("proc_snapshot asks beforeBlock with reason explicit and unwinds when told", () => {
  const { proc, imports } = setup();
  const seen: BlockPoint[] = [];
  proc.blockHook = (p) => {
    seen.push(p);
    return "unwind";
  };
  assert.equal(imports.proc_snapshot(), UNWIND);
  assert.deepEqual(seen, [{ syscall: "proc_snapshot", reason: "explicit" }]);
  proc.blockHook = () => "block";
  assert.equal(imports.proc_snapshot(), 0);
});

Deno.test("a blocking accept asks beforeBlock with reason accept and the fd", () => {
  const { proc, imports } = setup();
  assert.equal(imports.sock_open(1, 1, 0, 0), 0);
  const fd = proc.mem.getU32(0);
  proc.mem.view(100, 110);
  new Uint8Array(proc.mem.memory!.buffer, 100, 8).set([1, 0, 0x50, 0, 127, 0, 0, 1]);
  assert.equal(imports.sock_bind(fd, 100), 0);
  assert.equal(imports.sock_listen(fd, 4), 0);
  const seen: BlockPoint[] = [];
  proc.blockHook = (p) => {
    seen.push(p);
    return "unwind";
  };
  assert.equal(imports.sock_accept_v2(fd, 0, 200, 300), UNWIND);
  assert.deepEqual(seen, [{ syscall: "sock_accept", reason: "accept", fd }]);
});

Deno.test("guest listening is announced on the shared network", async () => {
  const net = new VirtualNetwork();
  const { proc, imports } = setup(net);
  assert.equal(processNetwork(proc), net);
  imports.sock_open(2, 1, 0, 0);
  const fd = proc.mem.getU32(0);
  assert.equal(imports.sock_listen(fd, 4), 0); // unbound: an ephemeral port, as on Linux
  const { address } = await net.firstListen();
  assert.equal(address.family, "ipv6");
  assert.ok(address.port >= 49152);
  assert.deepEqual(net.listeners().map((l) => l.address.port), [address.port]);
  const h = proc.fds.handle(fd) as SocketHandle;
  assert.deepEqual(h.describe().state, "listening");
});

Deno.test("unsupported calls answer ENOTSUP and never throw", () => {
  const { imports } = setup();
  for (const name of UNSUPPORTED_CALLS) assert.equal(imports[name](0, 0, 0, 0), ERRNO_NOTSUP, name);
  assert.equal(imports.callback_signal(0, 0), 0);
});

Deno.test("bad fds and pointers become errnos", () => {
  const { imports } = setup();
  assert.equal(imports.fd_dup(77, 0), ERRNO_BADF);
  assert.equal(imports.epoll_create(0xffff_fff0), ERRNO_FAULT);
  assert.equal(imports.fd_pipe(0xffff_fff0, 0), ERRNO_FAULT);
  assert.equal(imports.sock_recv(1234, 0, 0, 0, 0, 0), ERRNO_BADF);
});

Deno.test("nonblocking accept with nothing pending is EAGAIN without asking the hook", () => {
  const { proc, imports } = setup();
  imports.sock_open(1, 1, 0, 0);
  const fd = proc.mem.getU32(0);
  imports.sock_listen(fd, 1);
  proc.fds.get(fd)!.fdflags = 4; // NONBLOCK
  proc.blockHook = () => {
    throw new Error("must not be asked");
  };
  assert.equal(imports.sock_accept_v2(fd, 0, 200, 300), ERRNO_AGAIN);
});

Deno.test("WASIX_BLOCKING_IMPORTS lists the suspending calls", () => {
  for (
    const name of [
      "sock_accept_v2",
      "sock_recv",
      "epoll_wait",
      "thread_sleep",
      "futex_wait",
      "fd_read",
      "poll_oneoff",
    ]
  ) {
    assert.ok(WASIX_BLOCKING_IMPORTS.has(name), name);
  }
  assert.ok(!WASIX_BLOCKING_IMPORTS.has("sock_open"));
  assert.equal(WASIX_MODULE, "wasix_32v1");
});

Deno.test("checkWasixImports() names missing and unsupported WASIX imports", async () => {
  const { checkWasixImports } = await import("../../../runtime/wasix/mod.ts");
  // (module (import "wasix_32v1" "proc_fork" (func)) (import "wasix_32v1" "nope" (func))
  //         (import "wasix_64v1" "fd_dup" (func)) (import "wasix_32v1" "sock_open" (func)))
  const wat = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version
    0x01,
    0x04,
    0x01,
    0x60,
    0x00,
    0x00, // type section: () -> ()
  ];
  const imports: [string, string][] = [
    ["wasix_32v1", "proc_fork"],
    ["wasix_32v1", "nope"],
    ["wasix_64v1", "fd_dup"],
    ["wasix_32v1", "sock_open"],
  ];
  const enc = new TextEncoder();
  const body: number[] = [imports.length];
  for (const [m, n] of imports) {
    body.push(m.length, ...enc.encode(m), n.length, ...enc.encode(n), 0x00, 0x00);
  }
  const bytes = new Uint8Array([...wat, 0x02, body.length, ...body]);
  const problems = checkWasixImports(new WebAssembly.Module(bytes));
  assert.deepEqual(
    problems.map((p) => [p.module, p.name, p.severity]),
    [
      ["wasix_32v1", "proc_fork", "unsupported"],
      ["wasix_32v1", "nope", "missing"],
      ["wasix_64v1", "fd_dup", "missing"],
    ],
  );
});

Deno.test("an epoll wait that starts after the data arrived resolves at once", async () => {
  // A snapshot hook may hold a block; the wait then starts late and must see what is ready.
  const net = new VirtualNetwork();
  const server = new SocketHandle({ family: "ipv4", net });
  server.bind({ family: "ipv4", ip: "127.0.0.1", port: 7001 });
  server.listen(4);
  const client = net.connect(7001);
  const conn = server.accept();
  const ep = new EpollHandle();
  ep.control(0, 5, conn, { events: 1, ptr: 0, fd: 5, data1: 0, data2: 0n });
  client.write(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
  const late = await Promise.race([
    ep.changed().then(() => "woke"),
    new Promise((resolve) => setTimeout(() => resolve("missed"), 50)),
  ]);
  assert.equal(late, "woke");
  assert.equal(ep.collect(8, () => true).length, 1);
});

Deno.test("nonblocking recv with nothing buffered is EAGAIN without throwing inside", () => {
  const { proc, imports, net } = setup();
  imports.sock_open(1, 1, 0, 0);
  const fd = proc.mem.getU32(0);
  imports.sock_listen(fd, 1);
  const port = (proc.fds.handle(fd) as SocketHandle).localAddress!.port;
  net.connect(port);
  assert.equal(imports.sock_accept_v2(fd, 4, 4, 300), 0);
  const conn = proc.mem.getU32(4);
  proc.mem.setU32(100, 400); // iovec: 16 bytes at 400
  proc.mem.setU32(104, 16);
  assert.equal(imports.sock_recv(conn, 100, 1, 0, 200, 204), ERRNO_AGAIN);
});
