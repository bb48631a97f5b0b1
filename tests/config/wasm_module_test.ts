import assert from "node:assert/strict";
import { inspectModule } from "../../config/mod.ts";
import { buildModule } from "./_fixtures.ts";

Deno.test("inspectModule() reads imports, exports and a defined memory", async () => {
  const facts = await inspectModule(
    buildModule({ importFuncs: [["wasi_snapshot_preview1", "fd_write"]], memory: [2, 3] }),
  );
  assert.deepEqual(facts, {
    importModules: ["wasi_snapshot_preview1"],
    exports: ["_start"],
    initialMemoryBytes: 2 * 65536,
    maxMemoryBytes: 3 * 65536,
  });
});

Deno.test("inspectModule() reads an imported memory", async () => {
  const facts = await inspectModule(
    buildModule({ importFuncs: [["a", "f"]], importMemory: ["env", "memory", 5], start: false }),
  );
  assert.deepEqual(facts.importModules, ["a", "env"]);
  assert.equal(facts.initialMemoryBytes, 5 * 65536);
  assert.equal(facts.maxMemoryBytes, undefined);
  assert.deepEqual(facts.exports, []);
});

Deno.test("inspectModule() reads the committed examples", async () => {
  const wasm = await Deno.readFile(
    new URL("../../examples/wcgi-hello/wcgi-hello.wasm", import.meta.url),
  );
  const facts = await inspectModule(wasm);
  assert.ok(facts.exports.includes("_start"));
  assert.deepEqual(facts.importModules, ["wasi_snapshot_preview1"]);
  assert.ok((facts.initialMemoryBytes ?? 0) >= 65536);
});

Deno.test("inspectModule() rejects invalid modules", async () => {
  const broken = buildModule();
  broken[broken.length - 1] = 0xff; // corrupt the function body's `end`
  await assert.rejects(() => inspectModule(broken), WebAssembly.CompileError);
});
