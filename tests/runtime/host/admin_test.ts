import assert from "node:assert/strict";
import { encodeJournal } from "../../../journal/mod.ts";
import { createAdminHandler } from "../../../runtime/host/admin.ts";
import {
  BUNDLE_FORMAT,
  type BundleManifest,
  moduleIdentity,
  PREPARE_SECTION,
  sha256Hex,
} from "../../../runtime/snapshot/mod.ts";

/** An empty module carrying a thaw.prepare section, as prepare would leave it. */
function preparedModule(): Uint8Array {
  const enc = new TextEncoder();
  const name = enc.encode(PREPARE_SECTION);
  const body = enc.encode(JSON.stringify({ version: 1, inputHash: "00", kind: "reactor" }));
  const payload = [name.length, ...name, ...body];
  return new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 0, payload.length, ...payload]);
}
const WASM = preparedModule();

function unhex(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
}

async function bundle(name = "hello", version = "1"): Promise<Map<string, Uint8Array>> {
  const moduleHash = (await moduleIdentity(WASM))!;
  const configHash = "ab".repeat(32);
  const journal = encodeJournal([
    {
      kind: "identity",
      moduleHash: unhex(moduleHash),
      configHash: unhex(configHash),
      formatVersion: 1,
      thawVersion: "0.1.0",
    },
    { kind: "snapshot", trigger: "accept", timeNs: BigInt(Date.now()) * 1_000_000n },
  ]);
  const appYaml = new TextEncoder().encode(`kind: wasmer.io/App.v0\nname: ${name}\n# ${version}\n`);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    name,
    runner: "proxy",
    createdAt: new Date().toISOString(),
    thawVersion: "0.1.0",
    module: {
      file: "module.wasm",
      sha256: await sha256Hex(WASM),
      size: WASM.length,
      inputSha256: "00",
      inputSize: WASM.length,
      asyncify: "none",
    },
    journal: {
      file: "snapshot.journal",
      sha256: await sha256Hex(journal),
      size: journal.length,
      records: 2,
      trigger: "bootstrap",
      rawRecords: 2,
      rawSize: journal.length,
    },
    configHash,
    moduleIdentity: moduleHash,
    files: [{ path: "app.yaml", sha256: await sha256Hex(appYaml), size: appYaml.length }],
    timings: {},
    bootFacts: { randomBytes: 0, clockReads: 0 },
    warmup: [],
  };
  return new Map([
    ["manifest.json", new TextEncoder().encode(JSON.stringify(manifest))],
    ["module.wasm", WASM],
    ["snapshot.journal", journal],
    ["app.yaml", appYaml],
  ]);
}

function upload(files: Map<string, Uint8Array>, token = "secret", name = "hello"): Request {
  const form = new FormData();
  for (const [p, b] of files) form.append(p, new Blob([b as Uint8Array<ArrayBuffer>]), p);
  return new Request(`http://host/_thaw/admin/apps/${name}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("admin API installs a bundle and switches versions atomically", () =>
  withDir(async (dir) => {
    const activated: string[] = [];
    const admin = createAdminHandler({
      token: "secret",
      appsDir: dir,
      activate: async (name, path) => {
        activated.push(`${name}:${await Deno.readTextFile(`${path}/app.yaml`)}`);
      },
    });
    const r1 = await admin(upload(await bundle("hello", "1")));
    assert.equal(r1.status, 201, await r1.clone().text());
    const r2 = await admin(upload(await bundle("hello", "2")));
    assert.equal(r2.status, 201);
    assert.match(await Deno.readTextFile(`${dir}/hello/app.yaml`), /# 2/);
    assert.equal(activated.length, 2);
    const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(leftovers, ["hello"]);
    const list = await admin(
      new Request("http://host/_thaw/admin/apps", { headers: { authorization: "Bearer secret" } }),
    );
    assert.equal((await list.json()).apps[0].name, "hello");
  }));

Deno.test("admin API answers 401 for a bad token and 400 for malformed bundles", () =>
  withDir(async (dir) => {
    const admin = createAdminHandler({ token: "secret", appsDir: dir });
    assert.equal((await admin(upload(await bundle(), "wrong"))).status, 401);
    assert.equal((await admin(upload(await bundle(), ""))).status, 401);

    const cases: [string, (b: Map<string, Uint8Array>) => void][] = [
      ["no manifest", (b) => b.delete("manifest.json")],
      ["bad manifest", (b) => b.set("manifest.json", new TextEncoder().encode("{"))],
      ["module hash", (b) => b.set("module.wasm", new Uint8Array([0, 97, 115, 109, 1, 0, 0, 1]))],
      ["missing journal", (b) => b.delete("snapshot.journal")],
      ["journal hash", (b) => b.set("snapshot.journal", new Uint8Array([1, 2, 3]))],
      ["unlisted file", (b) => b.set("extra.txt", new Uint8Array([1]))],
      ["unsafe path", (b) => b.set("../evil", new Uint8Array([1]))],
    ];
    for (const [what, mutate] of cases) {
      const b = await bundle();
      mutate(b);
      const res = await admin(upload(b));
      assert.equal(res.status, 400, `${what}: ${await res.clone().text()}`);
      assert.ok((await res.json()).error.length > 0);
    }
    const wrongName = await admin(upload(await bundle("other"), "secret", "hello"));
    assert.equal(wrongName.status, 400);
    const notForm = await admin(
      new Request("http://host/_thaw/admin/apps/hello", {
        method: "PUT",
        headers: { authorization: "Bearer secret" },
        body: "junk",
      }),
    );
    assert.equal(notForm.status, 400);
    // Nothing was installed, nothing was left behind.
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  }));

Deno.test("admin API keeps the old version when the host refuses the new one", () =>
  withDir(async (dir) => {
    let refuse = false;
    const admin = createAdminHandler({
      token: "secret",
      appsDir: dir,
      activate: () => refuse ? Promise.reject(new Error("no")) : Promise.resolve(),
    });
    assert.equal((await admin(upload(await bundle("hello", "1")))).status, 201);
    refuse = true;
    assert.equal((await admin(upload(await bundle("hello", "2")))).status, 400);
    assert.match(await Deno.readTextFile(`${dir}/hello/app.yaml`), /# 1/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["hello"]);
  }));
