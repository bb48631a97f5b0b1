import assert from "node:assert/strict";
import { lookupPath, packageMount } from "../../../runtime/vfs/mod.ts";
import {
  DirHandle,
  FileHandle,
  RIGHTS_DIR,
  RIGHTS_FD_READ,
  RIGHTS_FD_SEEK,
  RIGHTS_FILE,
  WHENCE_SET,
} from "../../../runtime/wasi/mod.ts";
import { EpollHandle, SocketHandle } from "../../../runtime/wasix/mod.ts";
import {
  applyOsState,
  captureOsState,
  Guest,
  OsStateError,
  prepareModule,
} from "../../../runtime/snapshot/mod.ts";
import type { JournalRecord } from "../../../journal/mod.ts";
import { buildGuest, CACHE_DIR } from "./_guests.ts";

const config = { argv0: "x.wasm", args: [], env: {}, mounts: [] };

async function guests() {
  const prepared = await prepareModule(await buildGuest("snap_stdin"), { cacheDir: CACHE_DIR });
  const module = await WebAssembly.compile(prepared.bytes as Uint8Array<ArrayBuffer>);
  return () => Guest.create(module, prepared.info, config);
}

const entry = (handle: SocketHandle | FileHandle | EpollHandle, fdflags = 0) => ({
  handle,
  rightsBase: handle instanceof FileHandle ? RIGHTS_FILE : handle.maxRights,
  rightsInheriting: 0,
  fdflags,
});

Deno.test("captureOsState()/applyOsState() carry files, fds, listeners and epoll; connections come back closed", async () => {
  const make = await guests();
  const a = make();
  a.fs.writeFile("/data/notes.txt", "hello snapshot");
  const node = lookupPath(a.fs.root, "data/notes.txt", true);
  assert.equal(node.kind, "file");
  if (node.kind !== "file") return;
  const file = new FileHandle(node, node.open(true), true, true, "/data/notes.txt");
  file.seek(6, WHENCE_SET);
  const fileFd = a.proc.fds.insert(entry(file));
  const listener = new SocketHandle({ family: "ipv4", net: a.net });
  listener.bind({ family: "ipv4", ip: "127.0.0.1", port: 9000 });
  listener.listen(16);
  const listenFd = a.proc.fds.insert(entry(listener, 4));
  const client = a.net.connect(9000);
  const conn = listener.accept();
  const connFd = a.proc.fds.insert(entry(conn));
  const ep = new EpollHandle();
  ep.control(0, listenFd, listener, { events: 1, ptr: 0, fd: listenFd, data1: 7, data2: 9n });
  const epFd = a.proc.fds.insert(entry(ep));

  const { records, warnings } = captureOsState(a);
  assert.ok(warnings.some((w) => w.includes(`fd ${connFd}`) && w.includes("comes back closed")));
  assert.ok(records.some((r) => r.kind === "fs.write" && r.path === "data/notes.txt"));
  assert.ok(records.some((r) => r.kind === "sock.bind" && r.address === "127.0.0.1:9000"));

  const b = make();
  applyOsState(b, records);
  const text = new TextDecoder().decode(b.fs.readFile("/data/notes.txt"));
  assert.equal(text, "hello snapshot");
  const rf = b.proc.fds.handle(fileFd) as FileHandle;
  assert.ok(rf instanceof FileHandle);
  assert.equal(rf.tell(), 6);
  const rl = b.proc.fds.get(listenFd)!;
  assert.ok(rl.handle instanceof SocketHandle && rl.handle.state === "listening");
  assert.equal(rl.fdflags, 4);
  assert.ok((rl.handle as SocketHandle).nonblocking);
  // The listener accepts on the new instance's network.
  b.net.connect(9000);
  assert.ok((rl.handle as SocketHandle).accept() instanceof SocketHandle);
  // The connection's peer is gone: end of file.
  const rc = b.proc.fds.handle(connFd);
  assert.equal(rc.read(new Uint8Array(8)), 0);
  const re = b.proc.fds.handle(epFd) as EpollHandle;
  assert.deepEqual(re.describe().interests, [
    { fd: listenFd, events: 1, data: [0, listenFd, 7, "9"] },
  ]);
  client.close();
});

Deno.test("applyOsState() refuses records that do not fit the fresh process", async () => {
  const make = await guests();
  const bad: JournalRecord[] = [
    {
      kind: "fd.open",
      fd: 0,
      fdKind: "stdin",
      path: "",
      oflags: 0,
      fdflags: 0,
      rightsBase: 0n,
      rightsInheriting: 0n,
    },
    {
      kind: "fd.open",
      fd: 7,
      fdKind: "file",
      path: "/missing.txt",
      oflags: 0,
      fdflags: 0,
      rightsBase: 0n,
      rightsInheriting: 0n,
    },
  ];
  assert.throws(() => applyOsState(make(), bad));
  const preopen: JournalRecord[] = [
    {
      kind: "fd.open",
      fd: 3,
      fdKind: "preopen",
      path: "/elsewhere",
      oflags: 0,
      fdflags: 0,
      rightsBase: 0n,
      rightsInheriting: 0n,
    },
  ];
  assert.throws(() => applyOsState(make(), preopen), OsStateError);
});

Deno.test("applyOsState() reopens files and directories under a host-mounted preopen", async () => {
  const make = await guests();
  const host = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${host}/sub`);
    await Deno.writeTextFile(`${host}/sub/page.txt`, "mounted page");
    // The preopen's guest path (/srv) is nowhere in the fs root: only the preopen reaches it.
    const withMount = () => {
      const g = make();
      g.proc.preopen({ guestPath: "/srv", dir: packageMount(host), readOnly: true });
      return g;
    };
    const a = withMount();
    const srv = [...a.proc.fds.entries()].find(([, e]) => e.preopenPath === "/srv")!;
    const dir = srv[1].handle as DirHandle;
    const sub = lookupPath(dir.dir, "sub", true);
    const page = lookupPath(dir.dir, "sub/page.txt", true);
    assert.ok(sub.kind === "dir" && page.kind === "file");
    if (sub.kind !== "dir" || page.kind !== "file") return;
    const file = new FileHandle(page, page.open(false), true, false, "/srv/sub/page.txt");
    file.seek(8, WHENCE_SET);
    const fileFd = a.proc.fds.insert({
      handle: file,
      rightsBase: RIGHTS_FD_READ | RIGHTS_FD_SEEK,
      rightsInheriting: 0,
      fdflags: 0,
    });
    const dirFd = a.proc.fds.insert({
      handle: new DirHandle(sub, "/srv/sub"),
      rightsBase: RIGHTS_DIR,
      rightsInheriting: 0,
      fdflags: 0,
    });
    const { records } = captureOsState(a);
    assert.ok(records.some((r) => r.kind === "fd.open" && r.path === "/srv/sub/page.txt"));

    const b = withMount();
    applyOsState(b, records);
    const rf = b.proc.fds.handle(fileFd) as FileHandle;
    assert.ok(rf instanceof FileHandle);
    assert.equal(rf.tell(), 8);
    const rest = new Uint8Array(16);
    assert.equal(new TextDecoder().decode(rest.subarray(0, rf.read(rest))), "page");
    const rd = b.proc.fds.handle(dirFd);
    assert.ok(rd instanceof DirHandle);
    assert.equal(rd.path, "/srv/sub");

    // Without the mount the file is nowhere: a clear OsStateError, not a crash.
    assert.throws(() => applyOsState(make(), records), OsStateError);
  } finally {
    await Deno.remove(host, { recursive: true });
  }
});
