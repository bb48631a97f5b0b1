import assert from "node:assert/strict";
import * as W from "../../../runtime/wasi/mod.ts";
import { Harness } from "./_harness.ts";

Deno.test("args_sizes_get() and args_get() write NUL-terminated UTF-8 strings", () => {
  const h = new Harness({ args: ["prog", "ünï", ""] });
  const c = h.alloc(4), s = h.alloc(4);
  assert.equal(h.sys.args_sizes_get(c, s), 0);
  assert.equal(h.u32(c), 3);
  assert.equal(h.u32(s), 5 + 6 + 1);
  const ptrs = h.alloc(12), buf = h.alloc(12);
  assert.equal(h.sys.args_get(ptrs, buf), 0);
  assert.equal(h.u32(ptrs), buf);
  assert.equal(h.text(h.u32(ptrs + 4), 5), "ünï");
  assert.equal(h.u8[h.u32(ptrs + 8)], 0);
});

Deno.test("environ_get() writes KEY=value strings and setEnv() replaces them", () => {
  const h = new Harness({ env: { A: "1", EQ: "x=y" } });
  const c = h.alloc(4), s = h.alloc(4);
  h.sys.environ_sizes_get(c, s);
  assert.equal(h.u32(c), 2);
  const ptrs = h.alloc(8), buf = h.alloc(h.u32(s));
  assert.equal(h.sys.environ_get(ptrs, buf), 0);
  assert.equal(h.text(h.u32(ptrs + 4), 6), "EQ=x=y");
  h.proc.setEnv({ B: "2" });
  h.sys.environ_sizes_get(c, s);
  assert.equal(h.u32(c), 1);
  assert.deepEqual(h.proc.env, ["B=2"]);
});

Deno.test("args_get() with out-of-bounds pointers is FAULT", () => {
  const h = new Harness({ args: ["prog"] });
  assert.equal(h.sys.args_get(4 * 65536 - 2, h.alloc(8)), W.ERRNO_FAULT);
  assert.equal(h.sys.args_get(h.alloc(8), -1), W.ERRNO_FAULT);
  assert.equal(h.sys.args_sizes_get(-4, h.alloc(4)), W.ERRNO_FAULT);
});

Deno.test("clock_time_get() reads monotonic and realtime clocks and counts reads", () => {
  const h = new Harness();
  const p = h.alloc(8);
  assert.equal(h.sys.clock_time_get(W.CLOCKID_MONOTONIC, 0n, p), 0);
  const a = h.u64(p);
  assert.equal(h.sys.clock_time_get(W.CLOCKID_MONOTONIC, 0n, p), 0);
  assert.ok(h.u64(p) >= a);
  assert.equal(h.sys.clock_time_get(W.CLOCKID_REALTIME, 0n, p), 0);
  const wall = Number(h.u64(p) / 1_000_000n);
  assert.ok(Math.abs(wall - Date.now()) < 1000);
  assert.equal(h.sys.clock_time_get(W.CLOCKID_PROCESS_CPUTIME_ID, 0n, p), 0);
  assert.ok(h.u64(p) > 0n);
  assert.equal(h.sys.clock_time_get(W.CLOCKID_THREAD_CPUTIME_ID, 0n, p), 0);
  assert.equal(h.proc.clockReads, 5);
});

Deno.test("clock_time_get() and clock_res_get() reject unknown clocks and bad pointers", () => {
  const h = new Harness();
  assert.equal(h.sys.clock_time_get(9, 0n, h.alloc(8)), W.ERRNO_INVAL);
  assert.equal(h.sys.clock_res_get(9, h.alloc(8)), W.ERRNO_INVAL);
  assert.equal(h.sys.clock_time_get(0, 0n, 4 * 65536 - 4), W.ERRNO_FAULT);
  const p = h.alloc(8);
  for (let id = 0; id < 4; id++) {
    assert.equal(h.sys.clock_res_get(id, p), 0);
    assert.ok(h.u64(p) >= 1n);
  }
});

Deno.test("a custom ClockSource drives the clocks", () => {
  const h = new Harness({ clock: { realtime: () => 2 ** 60, monotonic: () => 42 } });
  const p = h.alloc(8);
  h.sys.clock_time_get(W.CLOCKID_REALTIME, 0n, p);
  assert.equal(h.u64(p), 2n ** 60n);
  h.sys.clock_time_get(W.CLOCKID_MONOTONIC, 0n, p);
  assert.equal(h.u64(p), 42n);
});

Deno.test("random_get() fills memory and counts bytes drawn", () => {
  const h = new Harness();
  const p = h.alloc(100000);
  assert.equal(h.sys.random_get(p, 100000), 0);
  assert.ok(h.u8.subarray(p, p + 100000).some((b) => b !== 0));
  assert.equal(h.sys.random_get(p, 0), 0);
  assert.equal(h.proc.randomBytesDrawn, 100000);
  assert.equal(h.sys.random_get(4 * 65536 - 10, 20), W.ERRNO_FAULT);
});

Deno.test("random_get() uses a custom source (deterministic boots)", () => {
  const h = new Harness({ random: (b) => b.fill(7) });
  const p = h.alloc(4);
  h.sys.random_get(p, 4);
  assert.deepEqual([...h.u8.subarray(p, p + 4)], [7, 7, 7, 7]);
});

Deno.test("sched_yield() succeeds; proc_raise() is NOTSUP", () => {
  const h = new Harness();
  assert.equal(h.sys.sched_yield(), 0);
  assert.equal(h.sys.proc_raise(W.SIGNAL_TERM), W.ERRNO_NOTSUP);
});

Deno.test("proc_exit() throws ProcExit and records the code", () => {
  const h = new Harness();
  assert.throws(() => h.sys.proc_exit(3), (e: unknown) => e instanceof W.ProcExit && e.code === 3);
  assert.equal(h.proc.exitCode, 3);
});
