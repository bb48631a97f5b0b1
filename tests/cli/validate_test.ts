import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;
/** A minimal command module: one page of memory and an empty `_start`. */
const WASM = new Uint8Array([
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  4,
  1,
  96,
  0,
  0,
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
  10,
  1,
  6,
  95,
  115,
  116,
  97,
  114,
  116,
  0,
  0,
  10,
  4,
  1,
  2,
  0,
  11,
]);

/** Runs `thaw validate` as a user would and captures its output. */
async function validate(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "cli/main.ts"), "validate", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: result.code, out: decode(result.stdout), err: decode(result.stderr) };
}

async function tempApp(appYaml: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "thaw-validate-" });
  await Deno.writeTextFile(join(dir, "app.yaml"), appYaml);
  await Deno.writeFile(join(dir, "app.wasm"), WASM);
  return dir;
}

Deno.test("thaw validate prints one OK line per valid app and exits 0", async () => {
  const { code, out, err } = await validate("examples/wcgi-hello", "examples/preview1-server");
  assert.equal(code, 0, err);
  const lines = out.trim().split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^OK wcgi-hello: runner wcgi, wcgi-hello\.wasm, .*instaboot first-stdin/);
  assert.match(lines[1], /^OK preview1-server: runner proxy, preview1-server\.wasm, /);
  assert.equal(err, "");
});

Deno.test("thaw validate prints every problem with file:line:column and exits 1", async () => {
  const dir = await tempApp(`kind: wasmer.io/App.v0
name: Bad Name
package: app.wasm
capabilities:
  memory:
    limit: huge
  instaboot:
    requests:
      - path: warm
`);
  try {
    const { code, out, err } = await validate(dir);
    assert.equal(code, 1);
    assert.equal(out, "");
    const file = join(dir, "app.yaml");
    assert.deepEqual(err.trim().split("\n"), [
      `${file}:2:7: name must be lowercase letters, digits and "-", not starting or ending with "-" (got "Bad Name")`,
      `${file}:6:12: capabilities.memory.limit must be a size like "256MB", "512 MiB" or "1 GiB" (got "huge")`,
      `${file}:9:15: capabilities.instaboot.requests[0].path must start with "/" (got "warm")`,
      `${dir}: 3 errors, 0 warnings`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("thaw validate --strict fails on warnings", async () => {
  const dir = await tempApp("kind: wasmer.io/App.v0\nname: ok\npackage: app.wasm\ndomainz: []\n");
  try {
    const relaxed = await validate(dir);
    assert.equal(relaxed.code, 0);
    assert.match(
      relaxed.err,
      /app\.yaml:4:1: warning: domainz is an unknown key .*did you mean "domains"/,
    );
    assert.match(relaxed.out, /^OK ok: /);
    const strict = await validate("--strict", dir);
    assert.equal(strict.code, 1);
    assert.equal(strict.out, "");
    assert.match(strict.err, /0 errors, 1 warning \(--strict\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("thaw validate --json prints one object per app", async () => {
  const { code, out } = await validate("--json", "examples/preview1-server", "no/such/dir");
  assert.equal(code, 1);
  const [good, bad] = out.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(good.ok, true);
  assert.equal(good.app.runner, "proxy");
  assert.equal(bad.ok, false);
  assert.match(bad.errors[0].message, /does not exist/);
});

Deno.test("thaw validate without an app directory prints usage and exits 2", async () => {
  const { code, err } = await validate();
  assert.equal(code, 2);
  assert.match(err, /Usage: thaw validate/);
  const bad = await validate("--nope");
  assert.equal(bad.code, 2);
});

Deno.test("thaw validate compiles the module and checks it against the app", async () => {
  const dir = await tempApp(
    "kind: wasmer.io/App.v0\nname: ok\npackage: app.wasm\nrunner: wcgi\ncapabilities:\n  memory:\n    limit: 1KB\n",
  );
  try {
    const { code, err } = await validate(dir);
    assert.equal(code, 1);
    assert.match(
      err,
      /app\.yaml:7:12: capabilities\.memory\.limit is below the module's initial memory of 65536 bytes/,
    );
    await Deno.writeFile(join(dir, "app.wasm"), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const reactor = await validate(dir);
    assert.equal(reactor.code, 1);
    assert.match(
      reactor.err,
      /package names a module without a _start export, which the wcgi runner/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
