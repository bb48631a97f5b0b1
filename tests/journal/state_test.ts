import { deepStrictEqual, strictEqual } from "node:assert";
import { foldRecords, type JournalRecord } from "../../journal/mod.ts";
import { run, SAMPLES } from "./_helpers.ts";

const w = (path: string, offset: number, data: number[]): JournalRecord => ({
  kind: "fs.write",
  path,
  offset,
  data: new Uint8Array(data),
});

Deno.test("foldRecords() applies memory runs in order, later over earlier", () => {
  const s = foldRecords([
    run(0, new Uint8Array(8).fill(1), "none"),
    run(4, new Uint8Array(8).fill(2), "lz4"),
    run(0, new Uint8Array(2), "zero"),
  ]);
  deepStrictEqual([...s.memories.get(0)!.image], [0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
});

Deno.test("foldRecords() tracks fds through dup, renumber, seek and close", () => {
  const s = foldRecords([
    { ...SAMPLES["fd.open"], fd: 3 },
    { kind: "fd.dup", fd: 3, newFd: 5 },
    { kind: "fd.seek", fd: 5, offset: 10 },
    { kind: "fd.renumber", from: 5, to: 4 },
    { kind: "sock.open", fd: 6, family: 1, sockType: 1, protocol: 0 },
    { kind: "sock.bind", fd: 6, address: "127.0.0.1:80" },
    { kind: "sock.listen", fd: 6, backlog: 16 },
    { kind: "sock.connected", fd: 7, peer: "127.0.0.1:5000", accepted: true },
  ]);
  deepStrictEqual([...s.fds.keys()], [3, 4, 6, 7]);
  strictEqual(s.fds.get(3)!.offset, 10);
  strictEqual(s.fds.get(4)!.sharedWith, 3);
  strictEqual(s.fds.get(6)!.socket!.address, "127.0.0.1:80");
  strictEqual(s.fds.get(6)!.socket!.restorable, true);
  strictEqual(s.fds.get(7)!.socket!.restorable, false);
});

Deno.test("foldRecords() models files, truncation, renames and links", () => {
  const s = foldRecords([
    { kind: "fs.unlink", path: "/new" },
    w("/new", 2, [7, 7]),
    w("/pkg", 0, [1]),
    { kind: "fs.truncate", path: "/pkg", size: 0 },
    { kind: "fs.mkdir", path: "/d" },
    w("/d/f", 0, [5]),
    { kind: "fs.rename", from: "/d", to: "/e" },
    { kind: "fs.link", from: "/e/f", to: "/g" },
    w("/g", 1, [6]),
    { kind: "fs.symlink", target: "/e", path: "/l" },
  ]);
  deepStrictEqual(s.fs.get("/new"), {
    type: "file",
    content: {
      origin: null,
      size: 4,
      baseLimit: null,
      extents: [{ offset: 2, data: new Uint8Array([7, 7]) }],
    },
    times: null,
    links: [],
  });
  deepStrictEqual(s.fs.get("/pkg"), {
    type: "file",
    content: { origin: "/pkg", size: 0, baseLimit: 0, extents: [] },
    times: null,
    links: [],
  });
  deepStrictEqual(s.fs.get("/d"), { type: "deleted" });
  strictEqual(s.fs.has("/d/f"), false);
  const f = s.fs.get("/e/f");
  strictEqual(f?.type, "file");
  if (f?.type === "file") {
    deepStrictEqual(f.links, ["/e/f", "/g"]);
    deepStrictEqual(f.content.extents, [{ offset: 0, data: new Uint8Array([5, 6]) }]);
  }
  deepStrictEqual(s.fs.get("/l"), { type: "symlink", target: "/e", times: null });
});

Deno.test("foldRecords() keeps the last identity, snapshot and exit and all boot facts", () => {
  const s = foldRecords([
    SAMPLES.identity,
    { kind: "fact.random", bytes: new Uint8Array([1]) },
    { kind: "fact.random", bytes: new Uint8Array([2, 3]) },
    SAMPLES["fact.clock"],
    SAMPLES["fact.env"],
    SAMPLES.snapshot,
    { kind: "exit", code: 3 },
  ]);
  deepStrictEqual(s.identity, SAMPLES.identity);
  deepStrictEqual([...s.random], [1, 2, 3]);
  strictEqual(s.clockReads.length, 1);
  strictEqual(s.exitCode, 3);
  deepStrictEqual(s.snapshot, SAMPLES.snapshot);
});
