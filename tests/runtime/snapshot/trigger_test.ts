import assert from "node:assert/strict";
import { type BlockPoint, SnapshotPolicy } from "../../../runtime/snapshot/mod.ts";

const accept: BlockPoint = { syscall: "sock_accept_v2", reason: "accept", fd: 3 };
const read: BlockPoint = { syscall: "fd_read", reason: "read", fd: 4 };
const stdin: BlockPoint = { syscall: "fd_read", reason: "stdin", fd: 0 };

Deno.test("SnapshotPolicy bootstrap holds accept between requests and unwinds after the last", async () => {
  const p = new SnapshotPolicy(["bootstrap"]);
  const first = p.beforeBlock(accept);
  assert.ok(first instanceof Promise);
  p.requestStarted();
  assert.equal(await first, "block");
  // Mid-request reads block at once; an accept while the client still reads the response waits.
  assert.equal(p.beforeBlock(read), "block");
  const after = p.beforeBlock(accept);
  assert.ok(after instanceof Promise);
  p.requestFinished();
  p.warmupsDone();
  assert.equal(await after, "unwind");
  assert.deepEqual(await p.fired, accept);
  assert.equal(p.beforeBlock(accept), "block");
});

Deno.test("SnapshotPolicy bootstrap unwinds at the next idle block once warm-ups are done", async () => {
  const p = new SnapshotPolicy(["bootstrap"]);
  p.requestStarted();
  assert.equal(p.beforeBlock(read), "block");
  p.requestFinished();
  p.warmupsDone();
  assert.equal(p.beforeBlock({ syscall: "poll_oneoff", reason: "poll" }), "unwind");
  assert.equal((await p.fired).reason, "poll");
});

Deno.test("SnapshotPolicy ignores sleep and futex in bootstrap mode", () => {
  const p = new SnapshotPolicy(["bootstrap"]);
  p.warmupsDone();
  assert.equal(p.beforeBlock({ syscall: "poll_oneoff", reason: "sleep" }), "block");
  assert.equal(p.beforeBlock({ syscall: "futex_wait", reason: "futex" }), "block");
  assert.equal(p.hasFired, false);
});

Deno.test("SnapshotPolicy first-listen fires at the first accept once listening", () => {
  let listening = false;
  const p = new SnapshotPolicy(["first-listen"], { listening: () => listening });
  assert.equal(p.beforeBlock(accept), "block");
  listening = true;
  assert.equal(p.beforeBlock(stdin), "block");
  assert.equal(p.beforeBlock(accept), "unwind");
  assert.equal(p.beforeBlock(accept), "block");
});

Deno.test("SnapshotPolicy first-stdin and explicit fire only on their reason", () => {
  const s = new SnapshotPolicy(["first-stdin"]);
  assert.equal(s.beforeBlock(accept), "block");
  assert.equal(s.beforeBlock({ syscall: "proc_snapshot", reason: "explicit" }), "block");
  assert.equal(s.beforeBlock(stdin), "unwind");
  const e = new SnapshotPolicy(["explicit"]);
  assert.equal(e.beforeBlock(stdin), "block");
  assert.equal(e.beforeBlock({ syscall: "proc_snapshot", reason: "explicit" }), "unwind");
});

Deno.test("SnapshotPolicy cancel() releases held blocks", async () => {
  const p = new SnapshotPolicy(["bootstrap"]);
  const held = p.beforeBlock(accept);
  p.cancel();
  assert.equal(await held, "block");
  assert.equal(p.beforeBlock(accept), "block");
});
