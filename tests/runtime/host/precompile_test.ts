import assert from "node:assert/strict";
import { precompileBundles, takePrecompiled } from "../../../runtime/host/precompile.ts";

/** (module (func (export "f") (result i32) i32.const N)) */
function wasm(n: number): Uint8Array {
  return Uint8Array.of(
    0,
    97,
    115,
    109,
    1,
    0,
    0,
    0, // magic, version
    1,
    5,
    1,
    0x60,
    0,
    1,
    0x7f, // type: () -> i32
    3,
    2,
    1,
    0, // one function of type 0
    7,
    5,
    1,
    1,
    102,
    0,
    0, // export "f" func 0
    10,
    6,
    1,
    4,
    0,
    0x41,
    n,
    0x0b, // body: i32.const n
  );
}

async function bundle(dir: string, manifest: unknown, files: Record<string, Uint8Array>) {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest));
  for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(`${dir}/${name}`, bytes);
}

const call = (m: WebAssembly.Module) => (new WebAssembly.Instance(m).exports.f as () => number)();

Deno.test("bundles' modules compile early and are handed out once, while the file is unchanged", async () => {
  const root = await Deno.makeTempDir();
  try {
    await bundle(`${root}/plain`, { module: { file: "app.wasm" }, runner: "proxy" }, {
      "app.wasm": wasm(1),
    });
    await bundle(
      `${root}/ruby`,
      { module: { file: "ruby.prepared.wasm" }, runner: "rack", journal: { file: "x.journal" } },
      { "ruby.prepared.wasm": wasm(2), "ruby.restore.wasm": wasm(3) },
    );
    await bundle(`${root}/changed`, { module: { file: "app.wasm" } }, { "app.wasm": wasm(5) });
    await bundle(`${root}/escape`, { module: { file: "../plain/app.wasm" } }, {});
    await Deno.mkdir(`${root}/not-a-bundle`);
    await Deno.mkdir(`${root}/bad-manifest`);
    await Deno.writeTextFile(`${root}/bad-manifest/manifest.json`, "{");
    precompileBundles(root);

    const plain = await takePrecompiled(`${root}/plain/app.wasm`);
    assert.ok(plain);
    assert.deepEqual(plain.bytes, wasm(1));
    assert.equal(call(await plain.module), 1);
    // Handed out once.
    assert.equal(await takePrecompiled(`${root}/plain/app.wasm`), undefined);
    // A rack bundle with a journal compiles its restore-only module, not the full one.
    assert.equal(await takePrecompiled(`${root}/ruby/ruby.prepared.wasm`), undefined);
    assert.equal(
      call(await (await takePrecompiled(`${root}/ruby/./ruby.restore.wasm`))!.module),
      3,
    );
    // A file replaced since the early read (another size here) is read again by the caller.
    await Deno.writeFile(`${root}/changed/app.wasm`, Uint8Array.of(...wasm(6), 0, 0));
    assert.equal(await takePrecompiled(`${root}/changed/app.wasm`), undefined);
    assert.equal(await takePrecompiled(`${root}/escape/../plain/app.wasm`), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a path given relative or normalized differently finds the same early module", async () => {
  const root = await Deno.makeTempDir({ dir: Deno.cwd(), prefix: ".precompile-" });
  try {
    await bundle(`${root}/app`, { module: { file: "app.wasm" } }, { "app.wasm": wasm(7) });
    const rel = root.slice(Deno.cwd().length + 1);
    precompileBundles(`${rel}/app`); // the directory is itself a bundle
    const m = await takePrecompiled(`${root}//app/./app.wasm`);
    assert.ok(m);
    assert.equal(call(await m.module), 7);
    // Nothing to find for a directory that does not exist; nothing thrown either.
    precompileBundles(`${root}/missing`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("precompile looks for the restore-only module under the Rack runner's file name", async () => {
  const { RUBY_RESTORE_MODULE } = await import("../../../runtime/runners/rack.ts");
  const source = await Deno.readTextFile(
    new URL("../../../runtime/host/precompile.ts", import.meta.url),
  );
  assert.match(source, new RegExp(`RUBY_RESTORE_MODULE = "${RUBY_RESTORE_MODULE}"`));
});
