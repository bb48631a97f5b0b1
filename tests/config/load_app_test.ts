import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { checkApp, ConfigError, formatIssue, loadApp } from "../../config/mod.ts";
import { APP, buildModule, tempApp, WASM } from "./_fixtures.ts";

const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;

async function withApp<T>(
  files: Record<string, string | Uint8Array>,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await tempApp(files);
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadApp() resolves the wcgi-hello example through its wasmer.toml", async () => {
  const app = await loadApp(join(EXAMPLES, "wcgi-hello"));
  assert.equal(app.name, "wcgi-hello");
  assert.equal(app.runner, "wcgi");
  assert.equal(app.runnerUri, "https://webc.org/runner/wcgi");
  assert.equal(app.wcgiDialect, "rfc-3875");
  assert.equal(app.wasmPath, join(EXAMPLES, "wcgi-hello", "wcgi-hello.wasm"));
  assert.equal(app.sources.wasmerToml, join(EXAMPLES, "wcgi-hello", "wasmer.toml"));
  assert.deepEqual(app.domains, ["wcgi-hello.localhost"]);
  assert.equal(app.memoryLimitBytes, 64_000_000);
  assert.equal(app.instaboot?.mode, "first-stdin");
  assert.deepEqual(app.instaboot?.triggers, ["first-stdin"]);
  assert.equal(app.instaboot?.maxAgeMs, 86_400_000);
  assert.deepEqual(app.warnings, []);
});

Deno.test("loadApp() resolves the preview1-server example as a bare module", async () => {
  const app = await loadApp(join(EXAMPLES, "preview1-server", "app.yaml"));
  assert.equal(app.runner, "proxy");
  assert.equal(app.packageDir, join(EXAMPLES, "preview1-server"));
  assert.equal(app.sources.wasmerToml, undefined);
  assert.equal(app.instaboot?.mode, "bootstrap");
  assert.deepEqual(app.instaboot?.triggers, []);
  assert.deepEqual(app.instaboot?.requests.map((r) => r.path), ["/", "/health"]);
  assert.deepEqual(app.instaboot?.requests[0].expect, {
    statusCodes: [200],
    bodyIncludes: "hello from preview1-server",
  });
  assert.equal(app.healthChecks[0].intervalMs, 30_000);
});

Deno.test("loadApp() normalizes requests, env, args and defaults", async () => {
  await withApp({
    "app.yaml": APP(
      "pkg",
      `env: {B: app, C: c}
cli_args: [--verbose]
scaling: {mode: single_concurrency}
capabilities:
  memory: {limit: 1 GiB}
  instaboot:
    requests:
      - path: /a
        method: post
        headers: {x-a: "1"}
        body: hi
        timeout: 5s
`,
    ),
    "pkg/wasmer.toml": `[[module]]
name = "m"
source = "m.wasm"
abi = "wasi"
[[command]]
name = "m"
module = "m"
runner = "wasi"
[command.annotations.wasi]
main-args = ["serve"]
env = ["A=toml", "B=toml"]
`,
    "pkg/m.wasm": WASM,
  }, async (dir) => {
    const app = await loadApp(dir);
    assert.deepEqual(app.env, { A: "toml", B: "app", C: "c" });
    assert.deepEqual(app.args, ["serve", "--verbose"]);
    assert.equal(app.memoryLimitBytes, 1024 ** 3);
    assert.deepEqual(app.scaling, { mode: "single_concurrency" });
    assert.deepEqual(app.instaboot?.requests, [{
      path: "/a",
      method: "POST",
      headers: [["x-a", "1"]],
      body: "hi",
      timeoutMs: 5000,
    }]);
    assert.equal(app.packageDir, join(dir, "pkg"));
    assert.equal(app.debug, false);
    assert.equal(app.warnings.length, 1); // lower-case method
  });
});

Deno.test("loadApp() sends GET / when instaboot names no requests", async () => {
  await withApp({
    "app.yaml": APP("a.wasm", "capabilities:\n  instaboot: {max_age: 2h}\n"),
    "a.wasm": WASM,
  }, async (dir) => {
    const app = await loadApp(dir);
    assert.deepEqual(app.instaboot, {
      mode: "bootstrap",
      triggers: [],
      requests: [{ path: "/", method: "GET", headers: [] }],
      maxAgeMs: 7_200_000,
    });
  });
  await withApp({ "app.yaml": APP("a.wasm"), "a.wasm": WASM }, async (dir) => {
    assert.equal((await loadApp(dir)).instaboot, undefined);
  });
});

Deno.test("loadApp() throws a ConfigError listing every problem", async () => {
  await withApp({
    "app.yaml":
      "kind: wasmer.io/App.v0\nname: Bad\npackage: a.wasm\ncapabilities:\n  instaboot:\n    requests: [{path: x}]\n",
    "a.wasm": WASM,
  }, async (dir) => {
    await assert.rejects(() => loadApp(dir), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.issues.length, 2);
      assert.equal(e.issues[0].file, join(dir, "app.yaml"));
      assert.deepEqual(e.issues.map((i) => [i.line, i.path]), [
        [2, "name"],
        [6, "capabilities.instaboot.requests[0].path"],
      ]);
      return true;
    });
  });
});

Deno.test("checkApp() explains a missing app.yaml, package or wasmer.toml", async () => {
  await withApp({ "readme.md": "" }, async (dir) => {
    const result = await checkApp(dir);
    assert.ok(!result.ok);
    assert.match(
      formatIssue(result.errors[0]),
      /app\.yaml: does not exist; an app directory needs/,
    );
  });
  await withApp({ "build.sh": "echo hi\n" }, async (dir) => {
    const result = await checkApp(join(dir, "build.sh"));
    assert.ok(!result.ok);
    assert.match(result.errors[0].message, /is neither an app directory nor an app\.yaml file/);
  });
  await withApp({ "app.yaml": APP("wasmer/hello@1.0") }, async (dir) => {
    const result = await checkApp(dir);
    assert.ok(!result.ok);
    assert.match(result.errors[0].message, /looks like a registry package; Thaw has no registry/);
    assert.equal(result.errors[0].line, 3);
    assert.equal(result.errors[0].column, 10);
  });
  await withApp({ "app.yaml": APP("missing.wasm") }, async (dir) => {
    const result = await checkApp(dir);
    assert.ok(!result.ok);
    assert.match(result.errors[0].message, /"missing\.wasm" does not exist/);
  });
  await withApp({ "app.yaml": APP("."), "x.wasm": WASM }, async (dir) => {
    const result = await checkApp(dir);
    assert.ok(!result.ok);
    assert.match(
      result.errors[0].message,
      /has no wasmer\.toml; add one or point package at a \.wasm/,
    );
  });
  await withApp({ "app.yaml": APP("a.wasm"), "a.wasm": "text" }, async (dir) => {
    const result = await checkApp(dir);
    assert.ok(!result.ok);
    assert.match(result.errors[0].message, /not a WebAssembly module/);
  });
});

Deno.test("checkApp() reports wasmer.toml problems in wasmer.toml", async () => {
  await withApp({
    "app.yaml": APP("."),
    "wasmer.toml": '[[module]]\nname = "m"\nsource = "gone.wasm"\n',
  }, async (dir) => {
    const result = await checkApp(dir);
    assert.ok(!result.ok);
    assert.equal(result.errors[0].file, join(dir, "wasmer.toml"));
    assert.equal(result.errors[0].line, 3);
    assert.equal(result.errors[0].path, "module[0].source");
  });
});

Deno.test("checkApp() honours the runner extension and warns when it overrides wasmer.toml", async () => {
  await withApp({ "app.yaml": APP("a.wasm", "runner: wcgi\n"), "a.wasm": WASM }, async (dir) => {
    const result = await checkApp(dir);
    assert.ok(result.ok);
    assert.equal(result.app.runner, "wcgi");
  });
  await withApp({
    "app.yaml": APP(".", "runner: rack\n"),
    "wasmer.toml":
      '[[module]]\nname = "m"\nsource = "m.wasm"\nabi = "wasi"\n[[command]]\nname = "m"\nmodule = "m"\nrunner = "wcgi"\n',
    "m.wasm": WASM,
  }, async (dir) => {
    const result = await checkApp(dir);
    assert.ok(result.ok);
    assert.equal(result.app.runner, "rack");
    assert.match(
      result.warnings[0].message,
      /overrides the wasmer\.toml runner "wcgi" with "rack"/,
    );
  });
});

Deno.test("checkApp() reports app.yaml and package problems together", async () => {
  await withApp(
    { "app.yaml": "kind: wasmer.io/App.v0\nname: Bad\npackage: gone.wasm\n" },
    async (dir) => {
      const result = await checkApp(dir);
      assert.ok(!result.ok);
      assert.deepEqual(result.errors.map((e) => [e.line, e.path]), [[2, "name"], [3, "package"]]);
    },
  );
  await withApp({
    "app.yaml": "kind: wasmer.io/App.v0\nname: Bad\npackage: .\n",
    "wasmer.toml": '[[module]]\nname = "m"\nsource = "gone.wasm"\n',
  }, async (dir) => {
    const result = await checkApp(dir);
    assert.ok(!result.ok);
    assert.deepEqual(result.errors.map((e) => e.path).sort(), ["module[0].source", "name"]);
  });
});

Deno.test("loadApp() returns plain data that survives structuredClone (for Workers)", async () => {
  const app = await loadApp(join(EXAMPLES, "wcgi-hello"));
  assert.deepEqual(structuredClone(app), app);
  assert.deepEqual(JSON.parse(JSON.stringify(app)), app);
});

Deno.test("checkApp() names files as the caller did, or absolute on request", async () => {
  await withApp({ "app.yaml": "name: x\n" }, async (dir) => {
    // No Deno.chdir: the cwd is shared with test files running in parallel.
    const rel = relative(Deno.cwd(), dir);
    const named = await checkApp(rel);
    assert.ok(!named.ok);
    assert.equal(named.errors[0].file, join(rel, "app.yaml"));
    const absolute = await checkApp(rel, { paths: "absolute" });
    assert.ok(!absolute.ok);
    assert.equal(absolute.errors[0].file, join(dir, "app.yaml"));
  });
});

Deno.test("checkApp({inspectModule}) checks imports, the entry point and the memory limit", async () => {
  const check = async (wasm: Uint8Array, extra = "") =>
    await withApp({ "app.yaml": APP("a.wasm", extra), "a.wasm": wasm }, async (dir) => {
      const result = await checkApp(dir, { inspectModule: true });
      return result.ok ? [] : result.errors.map((e) => `${e.line}:${e.path} ${e.message}`);
    });
  assert.deepEqual(
    await check(buildModule({ memory: [1] }), "capabilities: {memory: {limit: 1MB}}\n"),
    [],
  );
  const [memory] = await check(
    buildModule({ memory: [32] }),
    "capabilities: {memory: {limit: 1MB}}\n",
  );
  assert.match(
    memory,
    /^4:capabilities\.memory\.limit is below the module's initial memory of 2097152 bytes; raise it to at least 2 MiB$/,
  );
  const [foreign] = await check(buildModule({ importFuncs: [["env", "f"]] }));
  assert.match(
    foreign,
    /^3:package names a module that imports from "env"; the proxy runner provides only /,
  );
  const [reactor] = await check(buildModule({ start: false, initialize: true }));
  assert.match(
    reactor,
    /^3:package names a module without a _start export, which the proxy runner calls/,
  );
  assert.deepEqual(
    await check(buildModule({ start: false, initialize: true }), "runner: rack\n"),
    [],
  );
  const broken = buildModule();
  broken[broken.length - 1] = 0xff;
  const [invalid] = await check(broken);
  assert.match(invalid, /^3:package names .*a\.wasm, which does not compile: /);
  // Without the option, only the header is checked.
  await withApp({ "app.yaml": APP("a.wasm"), "a.wasm": broken }, async (dir) => {
    assert.ok((await checkApp(dir)).ok);
  });
});
