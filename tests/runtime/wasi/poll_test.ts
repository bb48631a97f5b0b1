import assert from "node:assert/strict";
import * as W from "../../../runtime/wasi/mod.ts";
import { QueueInput } from "../../../runtime/wasi/mod.ts";
import { Harness } from "./_harness.ts";

function subs(h: Harness, list: W.Subscription[]): number {
  const p = h.alloc(list.length * W.SUBSCRIPTION_SIZE);
  list.forEach((s, i) => W.writeSubscription(h.dv, p + i * W.SUBSCRIPTION_SIZE, s));
  return p;
}

const clock = (
  userdata: bigint,
  timeoutNs: bigint,
  flags = 0,
  clockId = W.CLOCKID_MONOTONIC,
): W.Subscription => ({
  userdata,
  type: W.EVENTTYPE_CLOCK,
  clockId,
  timeout: timeoutNs,
  precision: 0n,
  flags,
  fd: 0,
});

const fdSub = (userdata: bigint, fd: number, type = W.EVENTTYPE_FD_READ): W.Subscription => ({
  userdata,
  type,
  clockId: 0,
  timeout: 0n,
  precision: 0n,
  flags: 0,
  fd,
});

async function poll(h: Harness, list: W.Subscription[]): Promise<[number, W.Event[]]> {
  const inp = subs(h, list);
  const out = h.alloc(list.length * W.EVENT_SIZE);
  const n = h.alloc(4);
  const e = await h.sys.poll_oneoff(inp, out, list.length, n);
  const events = [];
  for (let i = 0; i < h.u32(n) && e === 0; i++) {
    events.push(W.readEvent(h.dv, out + i * W.EVENT_SIZE));
  }
  return [e, events];
}

Deno.test("poll_oneoff() with a zero timeout returns at once", async () => {
  const h = new Harness();
  const [e, events] = await poll(h, [clock(7n, 0n)]);
  assert.equal(e, 0);
  assert.equal(events.length, 1);
  assert.equal(events[0].userdata, 7n);
  assert.equal(events[0].type, W.EVENTTYPE_CLOCK);
});

Deno.test("poll_oneoff() sleeps for a relative timeout without blocking the event loop", async () => {
  const h = new Harness();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 2);
  const t0 = performance.now();
  const r = h.sys.poll_oneoff(subs(h, [clock(1n, 30_000_000n)]), h.alloc(32), 1, h.alloc(4));
  assert.ok(r instanceof Promise, "a real sleep suspends");
  assert.equal(await r, 0);
  clearInterval(timer);
  assert.ok(performance.now() - t0 >= 29, "slept at least the timeout");
  assert.ok(ticks >= 1, "other timers kept running");
});

Deno.test("poll_oneoff() honours absolute deadlines on monotonic and realtime clocks", async () => {
  const h = new Harness();
  const mono = BigInt(h.proc.clock.monotonic()) + 20_000_000n;
  const t0 = performance.now();
  assert.equal(
    (await poll(h, [clock(1n, mono, W.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME)]))[0],
    0,
  );
  assert.ok(performance.now() - t0 >= 19);
  const past = BigInt(h.proc.clock.realtime()) - 1_000_000_000n;
  const [e, ev] = await poll(h, [
    clock(2n, past, W.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME, W.CLOCKID_REALTIME),
  ]);
  assert.equal(e, 0);
  assert.equal(ev[0].userdata, 2n);
});

Deno.test("poll_oneoff() reports a readable file at once, with nbytes", async () => {
  const h = new Harness();
  h.fs.writeFile("f", "12345");
  const [, fd] = h.open("f");
  const [e, ev] = await poll(h, [fdSub(3n, fd), clock(4n, 1_000_000_000n)]);
  assert.equal(e, 0);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].userdata, 3n);
  assert.equal(ev[0].nbytes, 5n);
});

Deno.test("poll_oneoff() waits for stdin data, then reports it", async () => {
  const q = new QueueInput();
  const h = new Harness({ stdin: q });
  setTimeout(() => q.push("abc"), 10);
  const [e, ev] = await poll(h, [fdSub(9n, 0), clock(1n, 5_000_000_000n)]);
  assert.equal(e, 0);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].type, W.EVENTTYPE_FD_READ);
  assert.equal(ev[0].nbytes, 3n);
});

Deno.test("poll_oneoff() times out while stdin stays empty", async () => {
  const q = new QueueInput();
  const h = new Harness({ stdin: q });
  const [e, ev] = await poll(h, [fdSub(9n, 0), clock(1n, 15_000_000n)]);
  assert.equal(e, 0);
  assert.deepEqual(ev.map((x) => x.userdata), [1n]);
});

Deno.test("poll_oneoff() reports hangup at end of input", async () => {
  const q = new QueueInput();
  q.end();
  const h = new Harness({ stdin: q });
  const [, ev] = await poll(h, [fdSub(1n, 0)]);
  assert.equal(ev[0].flags, W.EVENTRWFLAGS_FD_READWRITE_HANGUP);
});

Deno.test("poll_oneoff() fails with BADF for a bad fd, as wasmtime does", async () => {
  const h = new Harness();
  const [e] = await poll(h, [fdSub(5n, 77, W.EVENTTYPE_FD_WRITE)]);
  assert.equal(e, W.ERRNO_BADF);
});

Deno.test("poll_oneoff() with no subscriptions is INVAL; bad pointers FAULT", async () => {
  const h = new Harness();
  assert.equal(h.sys.poll_oneoff(h.alloc(48), h.alloc(32), 0, h.alloc(4)), W.ERRNO_INVAL);
  assert.equal(h.sys.poll_oneoff(4 * 65536 - 8, h.alloc(32), 1, h.alloc(4)), W.ERRNO_FAULT);
  assert.equal(h.sys.poll_oneoff(h.alloc(48), 4 * 65536 - 8, 1, h.alloc(4)), W.ERRNO_FAULT);
  assert.equal((await poll(h, [clock(1n, 0n, 0, 99)]))[1][0].error, W.ERRNO_INVAL);
});

Deno.test("poll_oneoff() asks beforeBlock with reason sleep, and unwinds when told", () => {
  const h = new Harness();
  const points: W.BlockPoint[] = [];
  h.proc.blockHook = (p) => {
    points.push(p);
    return "unwind";
  };
  const raw = W.wasiSyscalls(h.proc);
  const r = raw.poll_oneoff(subs(h, [clock(1n, 1_000_000_000n)]), h.alloc(32), 1, h.alloc(4));
  assert.equal(r, W.UNWIND);
  assert.deepEqual(points, [{ syscall: "poll_oneoff", reason: "sleep" }]);
});

Deno.test("a blocking read asks beforeBlock with reason stdin and consumes nothing on unwind", async () => {
  const q = new QueueInput();
  const h = new Harness({ stdin: q });
  h.proc.blockHook = () => Promise.resolve("unwind");
  const raw = W.wasiSyscalls(h.proc);
  const buf = h.alloc(8);
  const [iov, n] = h.iovs([buf, 8]);
  const r = raw.fd_read(0, iov, n, h.alloc(4));
  assert.ok(r instanceof Promise);
  assert.equal(await r, W.UNWIND);
  q.push("x");
  assert.equal(q.bytesReadable(), 1);
});

Deno.test("UNWIND is the registered symbol thaw.unwind", () => {
  assert.equal(W.UNWIND, Symbol.for("thaw.unwind"));
});
