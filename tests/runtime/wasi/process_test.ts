import assert from "node:assert/strict";
import binaryen from "binaryen";
import { MemFs } from "../../../runtime/vfs/mod.ts";
import {
  BLOCKING_IMPORTS,
  BLOCKING_QUALIFIED,
  buildImports,
  CollectOutput,
  ERRNO_NOENT,
  errnoOf,
  importObject,
  Process,
  ProcExit,
  QueueInput,
  WasiError,
  wasiImports,
  wasiSyscalls,
  wrapSyscall,
} from "../../../runtime/wasi/mod.ts";

function wasm(wat: string): WebAssembly.Module {
  const m = binaryen.parseText(wat);
  const bytes = m.emitBinary();
  m.dispose();
  return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
}

// Writes "hi\n" to stdout, then reads stdin into memory and echoes it, then exits with code 7.
const ECHO = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hi\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 16) (i32.const 200))
    (i32.store (i32.const 20) (i32.const 64))
    (drop (call $r (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
    (i32.store (i32.const 4) (i32.load (i32.const 24)))
    (i32.store (i32.const 0) (i32.const 200))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (i32.const 7))
    (unreachable)))`;

Deno.test("Process.start() runs _start through JSPI, blocking on stdin, and returns the exit code", async () => {
  const out = new CollectOutput();
  const stdin = new QueueInput();
  const proc = new Process({ stdout: out, stdin });
  const instance = new WebAssembly.Instance(wasm(ECHO), importObject(proc));
  setTimeout(() => stdin.push("typed\n"), 10);
  assert.equal(await proc.start(instance), 7);
  assert.equal(out.text(), "hi\ntyped\n");
  assert.equal(proc.exitCode, 7);
});

const RETURNS = `(module (memory (export "memory") 1) (func (export "_start")))`;
const TRAPS = `(module (memory (export "memory") 1) (func (export "_start") (unreachable)))`;
const REACTOR = `(module (memory (export "memory") 1) (global $g (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $g (i32.const 5)))
  (func (export "get") (result i32) (global.get $g)))`;

Deno.test("Process.start() returns 0 when _start returns", async () => {
  const proc = new Process();
  assert.equal(await proc.start(new WebAssembly.Instance(wasm(RETURNS), importObject(proc))), 0);
});

Deno.test("Process.start() lets traps surface as errors", async () => {
  const proc = new Process();
  await assert.rejects(
    proc.start(new WebAssembly.Instance(wasm(TRAPS), importObject(proc))),
    WebAssembly.RuntimeError,
  );
});

Deno.test("Process.start() on a reactor explains to use initialize()", async () => {
  const proc = new Process();
  await assert.rejects(proc.start(new WebAssembly.Instance(wasm(REACTOR), {})), /initialize/);
});

Deno.test("Process.initialize() runs _initialize; call() invokes exports", async () => {
  const proc = new Process();
  const inst = new WebAssembly.Instance(wasm(REACTOR), importObject(proc));
  await proc.initialize(inst);
  assert.equal(await proc.call(inst.exports.get as () => number), 5);
});

Deno.test("Process with jspi: false runs without promising; blocking fails loudly", async () => {
  const stdin = new QueueInput();
  const proc = new Process({ jspi: false, stdin, stdout: new CollectOutput() });
  const inst = new WebAssembly.Instance(wasm(ECHO), importObject(proc));
  await assert.rejects(proc.start(inst), /jspi: false/);
});

Deno.test("Process preopens '/' of the given fs by default", () => {
  const fs = new MemFs();
  const proc = new Process({ fs });
  assert.equal(proc.fds.get(3)?.preopenPath, "/");
  assert.equal(new Process().fds.get(3), undefined);
});

Deno.test("wrapSyscall() turns WasiError into errno, lets host bugs through", async () => {
  const ok = wrapSyscall(() => {
    throw new WasiError("gone", ERRNO_NOENT);
  });
  assert.equal(ok(), ERRNO_NOENT);
  const bug = wrapSyscall(() => {
    throw new TypeError("host bug");
  });
  assert.throws(() => bug(), TypeError);
  const exit = wrapSyscall(() => {
    throw new ProcExit(1);
  });
  assert.throws(() => exit(), ProcExit);
  const asyncErr = wrapSyscall(() => Promise.reject(new WasiError("later", ERRNO_NOENT)));
  assert.equal(await asyncErr(), ERRNO_NOENT);
  const asyncBug = wrapSyscall(() => Promise.reject(new RangeError("bug")));
  await assert.rejects(asyncBug() as Promise<number>, RangeError);
  assert.equal(errnoOf(new Error("x")), undefined);
});

Deno.test("wasiImports() provides all 46 preview1 functions; blocking ones are Wasm adapters", () => {
  const imports = wasiImports(new Process());
  assert.equal(Object.keys(imports).length, 46);
  for (const [name, f] of Object.entries(imports)) {
    assert.equal(typeof f, "function", name);
    // Adapters (blocking imports, and clock_time_get, which drops its i64) are exported Wasm
    // functions; the rest are exact-arity JS wrappers.
    const adapter = BLOCKING_IMPORTS.has(name) || name === "clock_time_get";
    assert.equal(String(f).includes("[native code]"), adapter, name);
  }
  assert.ok(BLOCKING_QUALIFIED.includes("wasi_snapshot_preview1.poll_oneoff"));
  const raw = wasiSyscalls(new Process());
  const plain = wasiImports(new Process({ jspi: false }));
  for (const [name, f] of Object.entries(plain)) {
    assert.equal((f as () => unknown).length, raw[name].length, `${name} keeps its arity`);
  }
});

Deno.test("wasiImports() with wrapBlocking wraps blocking imports in Suspending", () => {
  const imports = wasiImports(new Process(), { wrapBlocking: (_name, fn) => fn });
  // deno-lint-ignore no-explicit-any
  const Suspending = (WebAssembly as any).Suspending;
  for (const [name, f] of Object.entries(imports)) {
    assert.equal(f instanceof Suspending, BLOCKING_IMPORTS.has(name), name);
  }
});

Deno.test("wasiImports() applies overrides and wrapBlocking hooks", () => {
  const seen: string[] = [];
  const imports = wasiImports(new Process(), {
    overrides: { sched_yield: () => 42 },
    wrapBlocking: (name, fn) => (seen.push(name), fn),
  });
  assert.equal((imports.sched_yield as () => number)(), 42);
  assert.ok(seen.includes("wasi_snapshot_preview1.fd_read"));
  const extra = buildImports({ f: () => 1 }, new Set(["f"]), { jspi: false });
  assert.equal((extra.f as () => number)(), 1);
});

Deno.test("importObject() merges extra modules", () => {
  const obj = importObject(new Process(), { wasix_32v1: { x: () => 0 } });
  assert.ok("wasi_snapshot_preview1" in obj && "wasix_32v1" in obj);
});

Deno.test("Process.reopen() rebuilds file and directory handles from describe()", () => {
  const fs = new MemFs();
  fs.writeFile("/data/f.txt", "0123456789");
  const proc = new Process({
    fs,
    preopens: [{ guestPath: "/" }, { guestPath: "/data", path: "/data" }],
  });
  const mem = new WebAssembly.Memory({ initial: 1 });
  proc.mem.bind(mem);
  const imports = wasiImports(proc) as Record<string, (...a: unknown[]) => number>;
  new Uint8Array(mem.buffer).set(new TextEncoder().encode("f.txt"), 100);
  assert.equal(imports.path_open(4, 1, 100, 5, 0, 0x3fffffffn, 0x3fffffffn, 0, 200), 0);
  const fd = new DataView(mem.buffer).getUint32(200, true);
  const h = proc.fds.handle(fd);
  h.seek(4, 0);
  const desc = h.describe();
  assert.equal(desc.path, "/data/f.txt");
  const again = new Process({
    fs,
    preopens: [{ guestPath: "/" }, { guestPath: "/data", path: "/data" }],
  }).reopen(desc);
  const buf = new Uint8Array(3);
  assert.equal(again.read(buf), 3);
  assert.equal(new TextDecoder().decode(buf), "456");
  assert.throws(() => proc.reopen({ kind: "socket" }), /Cannot reopen|No preopened/);
});
