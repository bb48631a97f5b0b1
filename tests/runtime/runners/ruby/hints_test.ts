import assert from "node:assert/strict";
import binaryen from "binaryen";
import {
  compilationHints,
  PRIORITY_SECTION,
  profiledFunctions,
  profilingModule,
  withCompilationHints,
} from "../../../../runtime/runners/ruby/hints.ts";
import {
  concatBytes,
  WasmFormatError,
  wasmName,
  wasmSection,
} from "../../../../runtime/snapshot/mod.ts";

/**
 * A small module: one imported function (index 0), then `a` (1) calling `b` (2), `c` (3) that
 * nobody calls unless asked, and `loop` (4) with locals. Memory 0 is imported, as in a prepared
 * ruby.wasm.
 */
function sample(): Uint8Array {
  const m = new binaryen.Module();
  m.addFunctionImport("log", "env", "log", binaryen.i32, binaryen.none);
  m.addMemoryImport("0", "thaw", "memory");
  m.setMemory(1, -1, null, [], false, false, "0");
  m.addFunction(
    "a",
    binaryen.none,
    binaryen.i32,
    [],
    m.i32.add(m.call("b", [], binaryen.i32), m.i32.const(1)),
  );
  m.addFunction("b", binaryen.none, binaryen.i32, [], m.i32.const(41));
  m.addFunction(
    "c",
    binaryen.i32,
    binaryen.none,
    [],
    m.call("log", [m.local.get(0, binaryen.i32)], binaryen.none),
  );
  m.addFunction(
    "loop",
    binaryen.none,
    binaryen.i32,
    [binaryen.i32, binaryen.i64],
    m.block(null, [m.local.set(0, m.i32.const(7)), m.local.get(0, binaryen.i32)], binaryen.i32),
  );
  m.addFunctionExport("a", "a");
  m.addFunctionExport("c", "c");
  m.addFunctionExport("loop", "loop");
  assert.ok(m.validate());
  const bytes = m.emitBinary();
  m.dispose();
  return bytes;
}

function instantiate(bytes: Uint8Array, logged: number[] = []) {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {
    env: { log: (x: number) => logged.push(x) },
    thaw: { memory: new WebAssembly.Memory({ initial: 1 }) },
  });
}

Deno.test("the profiling variant records exactly the functions that ran, and behaves the same", () => {
  const bytes = sample();
  const logged: number[] = [];
  const inst = instantiate(profilingModule(bytes), logged);
  const x = inst.exports as Record<string, (...a: number[]) => number>;
  const profile = x.thaw_profile as unknown as WebAssembly.Memory;
  assert.deepEqual(profiledFunctions(profile), []);
  assert.equal(x.a(), 42);
  assert.deepEqual(profiledFunctions(profile), [1, 2]);
  assert.equal(x.loop(), 7);
  x.c(5);
  assert.deepEqual(logged, [5]);
  assert.deepEqual(profiledFunctions(profile), [1, 2, 3, 4]);
  // The original module is untouched and has no profile export.
  assert.equal(instantiate(bytes).exports.thaw_profile, undefined);
});

Deno.test("compilation hints list defined functions once, sorted, and replace an earlier list", () => {
  const bytes = sample();
  const hinted = withCompilationHints(bytes, [4, 2, 2, 0, 99, -1, 1.5]);
  assert.deepEqual(compilationHints(hinted), [2, 4]);
  const again = withCompilationHints(hinted, [3]);
  assert.deepEqual(compilationHints(again), [3]);
  const module = new WebAssembly.Module(again as Uint8Array<ArrayBuffer>);
  assert.equal(WebAssembly.Module.customSections(module, PRIORITY_SECTION).length, 1);
  // The section changes nothing the module does.
  assert.equal((instantiate(again).exports.a as () => number)(), 42);
  assert.deepEqual(compilationHints(bytes), []);
});

Deno.test("a malformed hints section is reported, not misread", () => {
  // A section that promises five entries and holds one byte of them.
  const bad = concatBytes([sample(), wasmSection(0, [...wasmName(PRIORITY_SECTION), 5, 1])]);
  assert.throws(() => compilationHints(bad), WasmFormatError);
  // Trailing bytes after the entries are refused too.
  const trailing = concatBytes([
    sample(),
    wasmSection(0, [...wasmName(PRIORITY_SECTION), 1, 1, 0, 1, 0, 9]),
  ]);
  assert.throws(() => compilationHints(trailing), /Malformed compilation hints/);
});
