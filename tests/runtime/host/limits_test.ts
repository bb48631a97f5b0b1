import assert from "node:assert/strict";
import { limitMemory, MemoryLimitError, WASM_PAGE } from "../../../runtime/host/mod.ts";

// (module (memory (export "memory") 1) (func (export "grow") (param i32) (result i32)
//   local.get 0 memory.grow))
const GROW = new Uint8Array([
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  6,
  1,
  96,
  1,
  127,
  1,
  127,
  3,
  2,
  1,
  0,
  5,
  3,
  1,
  0,
  1,
  7,
  17,
  2,
  6,
  109,
  101,
  109,
  111,
  114,
  121,
  2,
  0,
  4,
  103,
  114,
  111,
  119,
  0,
  0,
  10,
  8,
  1,
  6,
  0,
  32,
  0,
  64,
  0,
  11,
]);

function grow(bytes: Uint8Array, pages: number): number {
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>),
  );
  return (instance.exports.grow as (n: number) => number)(pages);
}

Deno.test("limitMemory() makes memory.grow fail past the limit", () => {
  assert.equal(grow(GROW, 10), 1, "unlimited module grows");
  const limited = limitMemory(GROW, 4 * WASM_PAGE);
  assert.ok(WebAssembly.validate(limited as Uint8Array<ArrayBuffer>));
  assert.equal(grow(limited, 3), 1);
  assert.equal(grow(limited, 4), -1);
});

Deno.test("limitMemory() rejects a module whose initial memory exceeds the limit", () => {
  assert.throws(() => limitMemory(GROW, WASM_PAGE / 2), MemoryLimitError);
  assert.throws(
    () => limitMemory(new Uint8Array([1, 2, 3]), WASM_PAGE),
    /Not a WebAssembly module/,
  );
});

Deno.test("limitMemory() limits imported memories when asked", () => {
  // (module (import "env" "memory" (memory 1 100)))
  const mod = new Uint8Array([
    0,
    97,
    115,
    109,
    1,
    0,
    0,
    0,
    2,
    16,
    1,
    3,
    101,
    110,
    118,
    6,
    109,
    101,
    109,
    111,
    114,
    121,
    2,
    1,
    1,
    100,
  ]);
  assert.deepEqual(limitMemory(mod, 2 * WASM_PAGE), mod, "imports are left alone by default");
  const limited = limitMemory(mod, 2 * WASM_PAGE, { imports: true });
  const imports = WebAssembly.Module.imports(
    new WebAssembly.Module(limited as Uint8Array<ArrayBuffer>),
  );
  assert.equal(imports[0].kind, "memory");
  // A memory with maximum 100 no longer satisfies an import whose maximum is 2.
  const big = new WebAssembly.Memory({ initial: 1, maximum: 100 });
  assert.throws(() =>
    new WebAssembly.Instance(new WebAssembly.Module(limited as Uint8Array<ArrayBuffer>), {
      env: { memory: big },
    })
  );
  const ok = new WebAssembly.Memory({ initial: 1, maximum: 2 });
  new WebAssembly.Instance(new WebAssembly.Module(limited as Uint8Array<ArrayBuffer>), {
    env: { memory: ok },
  });
});
