import assert from "node:assert/strict";
import { join } from "node:path";
import { loadApp } from "../../../config/mod.ts";
import { appFromRecord, RECORD_VERSION, recordApp } from "../../../config/recorded/mod.ts";
import { tempApp } from "../_fixtures.ts";

const EXAMPLES = new URL("../../../examples/", import.meta.url).pathname;

/** A copy of an example app in a temp dir (a stand-in for a bundle), removed after `fn`. */
async function withCopy<T>(example: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const src = join(EXAMPLES, example);
  const files: Record<string, Uint8Array> = {};
  for await (const e of Deno.readDir(src)) {
    if (e.isFile) files[e.name] = await Deno.readFile(join(src, e.name));
  }
  const dir = await tempApp(files);
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("recordApp() stores paths relative to the bundle and appFromRecord() gives the app back", async () => {
  await withCopy("wcgi-hello", async (dir) => {
    const app = await loadApp(dir, { paths: "absolute" });
    const record = await recordApp(app, dir);
    assert.ok(record);
    assert.equal(record.version, RECORD_VERSION);
    assert.equal(record.app.appDir, ".");
    assert.equal(record.app.wasmPath, "wcgi-hello.wasm");
    assert.equal(record.app.sources.appYaml, "app.yaml");
    assert.deepEqual(Object.keys(record.sources).sort(), ["app.yaml", "wasmer.toml"]);
    // The record survives JSON (it lives in manifest.json) and a move of the bundle.
    const moved = `${dir}-moved`;
    await Deno.rename(dir, moved);
    try {
      const found = await appFromRecord(JSON.parse(JSON.stringify(record)), moved);
      assert.ok("app" in found, JSON.stringify(found));
      assert.deepEqual(found.app, await loadApp(moved, { paths: "absolute" }));
    } finally {
      await Deno.rename(moved, dir);
    }
  });
});

Deno.test("appFromRecord() refuses a record once a config file changed, or a file is gone", async () => {
  await withCopy("wcgi-hello", async (dir) => {
    const record = await recordApp(await loadApp(dir), dir);
    const yaml = await Deno.readTextFile(join(dir, "app.yaml"));
    await Deno.writeTextFile(join(dir, "app.yaml"), yaml.replace("wcgi-hello", "renamed-app"));
    assert.deepEqual(await appFromRecord(record, dir), {
      stale: "app.yaml changed since the deploy",
    });
    await Deno.writeTextFile(join(dir, "app.yaml"), yaml);
    assert.ok("app" in await appFromRecord(record, dir));
    await Deno.remove(join(dir, "wcgi-hello.wasm"));
    assert.deepEqual(await appFromRecord(record, dir), { stale: "wcgi-hello.wasm is missing" });
    await Deno.remove(join(dir, "wasmer.toml"));
    assert.deepEqual(await appFromRecord(record, dir), { stale: "wasmer.toml cannot be read" });
  });
});

Deno.test("appFromRecord() refuses malformed records and paths that leave the bundle", async () => {
  await withCopy("preview1-server", async (dir) => {
    const record = await recordApp(await loadApp(dir), dir);
    assert.ok(record);
    const cases: [unknown, string][] = [
      [undefined, "no recorded app"],
      [[], "no recorded app"],
      [{ ...record, version: 99 }, "record version 99"],
      [{ ...record, sources: {} }, "no recorded config files"],
      [{ ...record, app: { ...record.app, wasmPath: 7 } }, "recorded app without wasmPath"],
      [
        { ...record, app: { ...record.app, mounts: [{ guest: "/x" }] } },
        "recorded app with a malformed mount",
      ],
      [
        { ...record, app: { ...record.app, wasmPath: "../../etc/x.wasm" } },
        "a recorded path leaves the bundle",
      ],
      [{ ...record, app: { ...record.app, appDir: "/etc" } }, "a recorded path leaves the bundle"],
      [{ ...record, sources: { "../app.yaml": "00" } }, "a recorded path leaves the bundle"],
    ];
    for (const [bad, stale] of cases) {
      assert.deepEqual(await appFromRecord(bad, dir), { stale }, JSON.stringify(bad)?.slice(0, 80));
    }
  });
});

Deno.test("recordApp() records nothing for an app that reaches outside the directory", async () => {
  // Resolved in examples/, recorded against another directory: every path lies outside it.
  const app = await loadApp(join(EXAMPLES, "preview1-server"));
  const dir = await Deno.makeTempDir({ prefix: "thaw-record-" });
  try {
    assert.equal(await recordApp(app, dir), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
