import assert from "node:assert/strict";
import {
  checkImports,
  compileModule,
  DirMappingError,
  GuestTrapError,
  instantiate,
  InvalidModuleError,
  loadModule,
  ModuleNotFoundError,
  ModuleShapeError,
  runModule,
  UnknownImportError,
} from "../../../runtime/instantiate/mod.ts";

const PROC = new URL("../../guests/wasm/proc.wasm", import.meta.url).pathname;
const enc = new TextEncoder();

function str(s: string): number[] {
  const b = enc.encode(s);
  return [b.length, ...b];
}

function section(id: number, body: number[]): number[] {
  return [id, body.length, ...body];
}

/**
 * A reactor: imports test.hit, exports memory and `_initialize`, which calls hit once.
 * `withMemory: false` leaves the memory out.
 */
function reactor(withMemory = true): Uint8Array {
  const exports = withMemory
    ? [2, ...str("memory"), 2, 0, ...str("_initialize"), 0, 1]
    : [1, ...str("_initialize"), 0, 1];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 0, 0]), // type 0: () -> ()
    ...section(2, [1, ...str("test"), ...str("hit"), 0, 0]), // import func 0
    ...section(3, [1, 0]), // func 1: type 0
    ...(withMemory ? section(5, [1, 0, 1]) : []), // memory: min 1 page
    ...section(7, exports),
    ...section(10, [1, 4, 0, 0x10, 0, 0x0b]), // body of func 1: call 0
  ]);
}

Deno.test("instantiate() initializes a reactor with extra import tables", async () => {
  let hits = 0;
  const module = await compileModule(reactor(), "reactor.wasm");
  const result = await instantiate(module, { imports: { test: { hit: () => void hits++ } } });
  assert.equal(result.kind, "reactor");
  assert.equal(hits, 1);
  assert.ok(result.instance.exports.memory instanceof WebAssembly.Memory);
});

Deno.test("instantiate() accepts import tables built from the process", async () => {
  const module = await compileModule(reactor(), "reactor.wasm");
  let seenArgs: readonly string[] = [];
  await instantiate(module, {
    args: ["r.wasm", "x"],
    imports: (proc) => ({ test: { hit: () => void (seenArgs = proc.args) } }),
  });
  assert.deepEqual(seenArgs, ["r.wasm", "x"]);
});

Deno.test("checkImports() names the first import Thaw does not provide", async () => {
  const module = await compileModule(reactor(), "reactor.wasm");
  const err = await instantiate(module).catch((e) => e);
  assert.ok(err instanceof UnknownImportError);
  assert.equal(err.module, "test");
  assert.equal(err.field, "hit");
  assert.equal(err.kind, "function");
  assert.match(err.message, /imports test\.hit \(function\), which Thaw does not provide/);
  assert.throws(
    () => checkImports(module, { test: { hit: new WebAssembly.Memory({ initial: 1 }) } }),
    /Thaw provides it as a memory/,
  );
});

Deno.test("instantiate() refuses a module that exports no memory", async () => {
  const module = await compileModule(reactor(false), "nomem.wasm");
  await assert.rejects(
    instantiate(module, { imports: { test: { hit: () => {} } } }),
    ModuleShapeError,
  );
});

Deno.test("runModule() refuses a reactor: there is no _start to run", async () => {
  const module = await compileModule(reactor(), "reactor.wasm");
  await assert.rejects(
    runModule(module, { imports: { test: { hit: () => {} } } }),
    (e) => e instanceof ModuleShapeError && /no _start export/.test(e.message),
  );
});

Deno.test("loadModule() and compileModule() fail with structured errors", async () => {
  await assert.rejects(loadModule("/no/such/file.wasm"), ModuleNotFoundError);
  await assert.rejects(compileModule(new Uint8Array(), "empty.wasm"), InvalidModuleError);
  const err = await compileModule(enc.encode("not wasm"), "text.wasm").catch((e) => e);
  assert.ok(err instanceof InvalidModuleError);
  assert.equal(err.path, "text.wasm");
  assert.match(err.reason, /expected magic word/);
});

Deno.test("runModule() returns the exit code and turns traps into GuestTrapError", async () => {
  const module = await loadModule(PROC);
  assert.equal(await runModule(module, { args: ["proc.wasm", "exit", "9"] }), 9);
  assert.equal(await runModule(module, { args: ["proc.wasm", "args"] }), 0);
  const err = await runModule(module, { args: ["proc.wasm", "trap"] }).catch((e) => e);
  assert.ok(err instanceof GuestTrapError);
  assert.equal(err.trap, "unreachable");
  assert.ok(err.frames.some((f) => f.startsWith("main ") || f.includes("__original_main")));
  const deep = await runModule(module, { args: ["proc.wasm", "deep"] }).catch((e) => e);
  assert.ok(deep instanceof GuestTrapError);
  assert.equal(deep.trap, "call stack exhausted");
});

Deno.test("instantiate() names a --dir that is not a host directory", async () => {
  const module = await loadModule(PROC);
  const err = await instantiate(module, { dirs: [{ host: "/no/such/dir", guest: "/d" }] })
    .catch((e) => e);
  assert.ok(err instanceof DirMappingError);
  assert.equal(err.host, "/no/such/dir");
  assert.match(err.message, /^Cannot preopen \/no\/such\/dir: /);
});
