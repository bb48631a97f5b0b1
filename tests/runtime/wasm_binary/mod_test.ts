import assert from "node:assert/strict";
import binaryen from "binaryen";
import {
  concatBytes,
  dropActiveData,
  importMemory,
  sleb128,
  uleb128,
  WasmFormatError,
  wasmName,
  WasmReader,
  wasmSection,
  wasmSections,
} from "../../../runtime/wasm_binary/mod.ts";

/** A module with a defined memory, one active data segment and an export reading it. */
function sample(): Uint8Array {
  const m = new binaryen.Module();
  m.setMemory(1, 2, "mem", [{ offset: m.i32.const(16), data: new TextEncoder().encode("hi") }]);
  m.addFunction("get", binaryen.none, binaryen.i32, [], m.i32.load8_u(0, 0, m.i32.const(16)));
  m.addFunctionExport("get", "get");
  const bytes = m.emitBinary();
  m.dispose();
  return bytes;
}

Deno.test("LEB128 round-trips through the reader, signed and unsigned", () => {
  for (const n of [0, 1, 63, 64, 127, 128, 624485, 2 ** 31 - 1, 2 ** 32 - 1]) {
    assert.equal(new WasmReader(Uint8Array.from(uleb128(n))).u32(), n);
  }
  for (const n of [0, 1, -1, 63, -64, 64, -65, 2 ** 31 - 1, -(2 ** 31)]) {
    assert.equal(new WasmReader(Uint8Array.from(sleb128(n))).s32(), n);
  }
  assert.deepEqual(uleb128(624485), [0xe5, 0x8e, 0x26]);
});

Deno.test("sections are listed in order, and bad bytes fail with an offset", () => {
  const bytes = sample();
  const ids = wasmSections(bytes).map((s) => s.id);
  assert.deepEqual(ids.filter((id) => id !== 0), [1, 3, 5, 7, 10, 11]);
  assert.throws(() => wasmSections(Uint8Array.of(1, 2, 3)), WasmFormatError);
  const cut = bytes.slice(0, bytes.length - 1);
  assert.throws(() => wasmSections(cut), (e: unknown) => {
    assert.ok(e instanceof WasmFormatError);
    assert.ok(e.offset > 8);
    return true;
  });
});

Deno.test("dropActiveData() empties the segments and importMemory() imports memory 0", () => {
  const bytes = sample();
  const run = (b: Uint8Array, imports: WebAssembly.Imports = {}) =>
    (new WebAssembly.Instance(new WebAssembly.Module(b as Uint8Array<ArrayBuffer>), imports)
      .exports.get as () => number)();
  assert.equal(run(bytes), "h".charCodeAt(0));
  assert.equal(run(dropActiveData(bytes)), 0);
  const imported = importMemory(bytes, "thaw", "memory");
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
  assert.equal(run(imported, { thaw: { memory } }), "h".charCodeAt(0));
  assert.equal(new Uint8Array(memory.buffer)[17], "i".charCodeAt(0));
  assert.throws(() => importMemory(imported, "thaw", "memory"), WasmFormatError);
});

Deno.test("wasmSection() and concatBytes() build a custom section the reader finds", () => {
  const custom = wasmSection(0, [...wasmName("thaw.test"), 1, 2, 3]);
  const bytes = concatBytes([sample(), custom]);
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  assert.deepEqual(
    [...new Uint8Array(WebAssembly.Module.customSections(module, "thaw.test")[0])],
    [1, 2, 3],
  );
});
