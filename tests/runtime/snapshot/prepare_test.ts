import assert from "node:assert/strict";
import {
  ASYNCIFY_MEMORY_EXPORT,
  PrepareError,
  prepareModule,
  readPrepareInfo,
  RESTORE_MEMORY_IMPORT,
  restoreVariant,
  sha256Hex,
  WasmFormatError,
} from "../../../runtime/snapshot/mod.ts";
import { buildGuest } from "./_guests.ts";

function compile(bytes: Uint8Array): WebAssembly.Module {
  return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
}

Deno.test("prepareModule() exports mutable globals and asyncifies only blocking imports", async () => {
  const input = await buildGuest("snap_stdin");
  const p = await prepareModule(input);
  assert.equal(p.info.asyncify, "added");
  assert.deepEqual(p.info.asyncifyImports, [
    "wasi_snapshot_preview1.fd_read",
    "wasi_snapshot_preview1.fd_write",
  ]);
  assert.equal(p.info.kind, "command");
  assert.equal(p.info.inputHash, await sha256Hex(input));
  assert.equal(p.info.inputSize, input.length);
  assert.equal(p.outputSize, p.bytes.length);
  assert.equal(p.hash, await sha256Hex(p.bytes));
  const exports = WebAssembly.Module.exports(compile(p.bytes)).map((e) => e.name);
  for (const g of p.info.globals) assert.ok(exports.includes(g.export));
  assert.ok(p.info.globals.length >= 1 && p.info.globals[0].type === "i32");
  assert.ok(exports.includes("asyncify_start_unwind"));
  assert.ok(exports.includes(ASYNCIFY_MEMORY_EXPORT));
  assert.deepEqual(readPrepareInfo(p.bytes), p.info);
  assert.equal(readPrepareInfo(input), null);
});

Deno.test("prepareModule() is deterministic and cached by content hash", async () => {
  const input = await buildGuest("snap_stdin");
  const dir = await Deno.makeTempDir();
  try {
    const a = await prepareModule(input, { cacheDir: dir });
    const b = await prepareModule(input, { cacheDir: dir });
    const c = await prepareModule(input);
    assert.equal(a.cached, false);
    assert.equal(b.cached, true);
    assert.equal(a.hash, b.hash);
    assert.equal(a.hash, c.hash);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prepareModule() leaves an already asyncified module's asyncify alone", async () => {
  const once = await prepareModule(await buildGuest("snap_stdin"));
  // Strip the thaw.prepare marker by re-preparing a module that only looks asyncified: a module
  // that exports the asyncify functions must not be instrumented twice.
  const wat = new Uint8Array([
    ...[0, 97, 115, 109, 1, 0, 0, 0],
    // type section: () -> (), (i32) -> (), () -> i32
    ...[1, 12, 3, 96, 0, 0, 96, 1, 127, 0, 96, 0, 1, 127],
    // function section: 5 functions
    ...[3, 6, 5, 1, 0, 1, 0, 2],
    // memory section: 1 memory, min 1
    ...[5, 3, 1, 0, 1],
    // global section: 1 mutable i32 = 0
    ...[6, 6, 1, 127, 1, 65, 0, 11],
  ]);
  const names = [
    "asyncify_start_unwind",
    "asyncify_stop_unwind",
    "asyncify_start_rewind",
    "asyncify_stop_rewind",
    "asyncify_get_state",
  ];
  const enc = new TextEncoder();
  const exportEntries: number[] = [names.length + 1];
  names.forEach((n, i) => exportEntries.push(n.length, ...enc.encode(n), 0, i));
  exportEntries.push(6, ...enc.encode("memory"), 2, 0);
  const code = [5, ...[2, 0, 11], ...[2, 0, 11], ...[2, 0, 11], ...[2, 0, 11], ...[
    4,
    0,
    65,
    0,
    11,
  ]];
  const bytes = new Uint8Array([
    ...wat,
    7,
    exportEntries.length,
    ...exportEntries,
    10,
    code.length,
    ...code,
  ]);
  const p = await prepareModule(bytes);
  assert.equal(p.info.asyncify, "already");
  assert.equal(p.info.kind, "reactor");
  assert.equal(p.info.globals.length, 1);
  await assert.rejects(() => prepareModule(once.bytes), PrepareError);
});

Deno.test("prepareModule() rejects a malformed module with PrepareError", async () => {
  const err = await prepareModule(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99])).catch((e) =>
    e
  );
  assert.ok(err instanceof PrepareError);
  assert.equal(err.reason, "malformed");
});

Deno.test("restoreVariant() drops active data and can import the memory", async () => {
  const p = await prepareModule(await buildGuest("snap_stdin"));
  const plain = restoreVariant(p.bytes);
  assert.ok(plain.length < p.bytes.length);
  const inst = new WebAssembly.Instance(compile(plain), {
    wasi_snapshot_preview1: new Proxy({}, { get: () => () => 0 }),
  });
  const mem = new Uint8Array((inst.exports.memory as WebAssembly.Memory).buffer);
  assert.ok(mem.every((b) => b === 0));
  assert.deepEqual(readPrepareInfo(plain), p.info);

  const imported = compile(restoreVariant(p.bytes, { importMemory: true }));
  const mems = WebAssembly.Module.imports(imported).filter((i) => i.kind === "memory");
  assert.deepEqual(mems.map((m) => [m.module, m.name]), [
    [RESTORE_MEMORY_IMPORT.module, RESTORE_MEMORY_IMPORT.name],
  ]);
  assert.throws(() => restoreVariant(new Uint8Array([1, 2, 3])), WasmFormatError);
});

Deno.test("prepareModule() derives the restore variant when asked", async () => {
  const p = await prepareModule(await buildGuest("snap_stdin"), {
    restore: { importMemory: true },
  });
  assert.ok(p.restoreBytes !== undefined);
  const imports = WebAssembly.Module.imports(compile(p.restoreBytes));
  assert.ok(imports.some((i) => i.kind === "memory" && i.module === "thaw"));
  assert.equal((await prepareModule(await buildGuest("snap_stdin"))).restoreBytes, undefined);
});
