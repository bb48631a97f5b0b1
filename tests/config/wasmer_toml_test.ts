import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ConfigError,
  formatIssue,
  parseWasmerToml,
  type ResolvedPackage,
  resolveWasmerPackage,
} from "../../config/mod.ts";
import { tempApp, WASM } from "./_fixtures.ts";

async function resolveIn(files: Record<string, string | Uint8Array>): Promise<ResolvedPackage> {
  const dir = await tempApp(files);
  try {
    const text = await Deno.readTextFile(join(dir, "wasmer.toml"));
    return await resolveWasmerPackage(parseWasmerToml(text), join(dir, "wasmer.toml"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function problems(files: Record<string, string | Uint8Array>): Promise<string[]> {
  try {
    await resolveIn(files);
  } catch (e) {
    if (e instanceof ConfigError) {
      return e.issues.map((i) => formatIssue({ ...i, file: "wasmer.toml" }));
    }
    throw e;
  }
  assert.fail("expected a ConfigError");
}

const MODULE = '[[module]]\nname = "app"\nsource = "app.wasm"\nabi = "wasi"\n';

Deno.test("parseWasmerToml() reports TOML syntax errors with line and column", () => {
  try {
    parseWasmerToml('[package]\nname = "x"\nversion = \n', { file: "pkg/wasmer.toml" });
    assert.fail("expected a ConfigError");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.issues[0].file, "pkg/wasmer.toml");
    assert.equal(e.issues[0].line, 3);
    assert.ok(e.issues[0].column > 0);
  }
});

Deno.test("parseWasmerToml() reports schema errors at their keys", () => {
  try {
    parseWasmerToml(`${MODULE}\n[[command]]\nname = "a"\nmodule = 3\n`);
    assert.fail("expected a ConfigError");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.issues.map(formatIssue), [
      "wasmer.toml:8:1: command[0].module must be a string (got 3)",
    ]);
  }
});

Deno.test("parseWasmerToml() warns about unknown keys", () => {
  const { warnings } = parseWasmerToml(`[package]\nname = "a/b"\nhompage = "x"\n${MODULE}`);
  assert.deepEqual(warnings.map(formatIssue), [
    "wasmer.toml:3:1: warning: package.hompage is an unknown key and is ignored (Thaw does not know it; check its spelling)",
  ]);
});

Deno.test("resolveWasmerPackage() maps Wasmer runners to runner kinds", async () => {
  const cases: [string, string][] = [
    ["https://webc.org/runner/wcgi", "wcgi"],
    ["wcgi", "wcgi"],
    ["https://webc.org/runner/wasi", "proxy"],
    ["wasi", "proxy"],
    ["thaw/rack", "rack"],
    ["command", "command"],
  ];
  for (const [uri, kind] of cases) {
    const pkg = await resolveIn({
      "wasmer.toml": `${MODULE}[[command]]\nname = "c"\nmodule = "app"\nrunner = "${uri}"\n`,
      "app.wasm": WASM,
    });
    assert.equal(pkg.runner, kind, uri);
    assert.equal(pkg.runnerUri, uri);
    assert.equal(pkg.command, "c");
    assert.ok(pkg.wasmPath.endsWith("app.wasm"));
  }
});

Deno.test("resolveWasmerPackage() reads annotations, [fs] mounts and the entrypoint", async () => {
  const pkg = await resolveIn({
    "wasmer.toml": `[package]\nentrypoint = "serve"\n[fs]\n"/public" = "static"\ndata = "data"\n
${MODULE}
[[command]]
name = "other"
module = "app"
runner = "wcgi"

[[command]]
name = "serve"
module = "app"
runner = "wasi"

[command.annotations.wasi]
main-args = ["--port", "8080"]
env = ["A=1", "B=x=y"]
cwd = "/public"
`,
    "app.wasm": WASM,
    "static/index.html": "hi",
    "data/.keep": "",
  });
  assert.equal(pkg.command, "serve");
  assert.equal(pkg.runner, "proxy");
  assert.deepEqual(pkg.args, ["--port", "8080"]);
  assert.deepEqual(pkg.env, { A: "1", B: "x=y" });
  assert.equal(pkg.cwd, "/public");
  assert.deepEqual(
    pkg.mounts.map((m) => [m.guest, m.host.endsWith("static") || m.host.endsWith("data")]),
    [
      ["/public", true],
      ["/data", true],
    ],
  );
  assert.deepEqual(Object.getPrototypeOf(pkg.annotations), Object.prototype);
});

Deno.test("resolveWasmerPackage() uses a lone module with a warning when there is no command", async () => {
  const pkg = await resolveIn({ "wasmer.toml": MODULE, "app.wasm": WASM });
  assert.equal(pkg.runner, "proxy");
  assert.equal(pkg.warnings.length, 1);
  assert.match(pkg.warnings[0].message, /no \[\[command\]\]/);
});

const BROKEN = `[fs]
"/x" = "missing-dir"

[[module]]
name = "app"
source = "nope.wasm"
abi = "emscripten"

[[module]]
name = "app"
source = "app.wasm"

[[command]]
name = "a"
module = "app"
runner = "https://webc.org/runner/emscripten"

[[command]]
name = "b"
module = "app"
runner = "wcgi"
`;

Deno.test("resolveWasmerPackage() lists every problem with its position", async () => {
  const errors = await problems({ "wasmer.toml": BROKEN, "app.wasm": WASM });
  assert.equal(errors.length, 4, errors.join("\n"));
  assert.match(
    errors[0],
    /^wasmer\.toml:2:1: fs\["\/x"\] maps to "missing-dir", which does not exist/,
  );
  assert.match(
    errors[1],
    /^wasmer\.toml:6:1: module\[0\]\.source names .*nope\.wasm, which does not exist/,
  );
  assert.equal(errors[2], 'wasmer.toml:10:1: module[1].name repeats "app"; names must be unique');
  assert.equal(
    errors[3],
    "wasmer.toml:13:1: command has 2 entries; set [package] entrypoint to the one the app runs",
  );
  const chosen = await problems({
    "wasmer.toml": `[package]\nentrypoint = "a"\n${BROKEN}`,
    "app.wasm": WASM,
  });
  assert.equal(chosen.length, 5, chosen.join("\n"));
  assert.match(
    chosen[2],
    /^wasmer\.toml:9:1: module\[0\]\.abi "emscripten" is not supported by Thaw/,
  );
  assert.match(
    chosen[4],
    /^wasmer\.toml:18:1: command\[0\]\.runner "https:\/\/webc\.org\/runner\/emscripten" is not supported by Thaw/,
  );
});

Deno.test("resolveWasmerPackage() explains bad entrypoints, dependencies and runners", async () => {
  assert.deepEqual(
    await problems({
      "wasmer.toml":
        `[package]\nentrypoint = "x"\n${MODULE}[[command]]\nname = "a"\nmodule = "app"\n`,
      "app.wasm": WASM,
    }),
    [
      'wasmer.toml:2:1: package.entrypoint names no [[command]] (commands: "a"); fix the name or add the command',
    ],
  );
  const dep = await problems({
    "wasmer.toml": `[dependencies]\n"a/b" = "1"\n[[command]]\nname = "a"\nmodule = "a/b:mod"\n`,
  });
  assert.match(
    dep[0],
    /^wasmer\.toml:5:1: command\[0\]\.module refers to a module of dependency "a\/b"/,
  );
  const runner = await problems({
    "wasmer.toml": `${MODULE}[[command]]\nname = "a"\nmodule = "app"\nrunner = "fancy"\n`,
    "app.wasm": WASM,
  });
  assert.match(
    runner[0],
    /^wasmer\.toml:8:1: command\[0\]\.runner "fancy" is not a runner Thaw knows/,
  );
  const missing = await problems({
    "wasmer.toml": `${MODULE}[[command]]\nname = "a"\nmodule = "other"\n`,
    "app.wasm": WASM,
  });
  assert.match(missing[0], /^wasmer\.toml:7:1: command\[0\]\.module names module "other"/);
});

Deno.test("resolveWasmerPackage() rejects files that are not core modules", async () => {
  const text = await problems({
    "wasmer.toml": MODULE,
    "app.wasm": "not wasm at all",
  });
  assert.match(text[0], /module\[0\]\.source names .* not a WebAssembly module/);
  const component = await problems({
    "wasmer.toml": MODULE,
    "app.wasm": new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]),
  });
  assert.match(component[0], /component/);
});

Deno.test("resolveWasmerPackage() checks annotation types", async () => {
  const errors = await problems({
    "wasmer.toml":
      `${MODULE}[[command]]\nname = "a"\nmodule = "app"\nrunner = "wasi"\n[command.annotations.wasi]\nmain-args = "x"\nenv = ["NOEQUALS"]\n`,
    "app.wasm": WASM,
  });
  assert.deepEqual(errors, [
    'wasmer.toml:10:1: command[0].annotations.wasi.main-args must be a list (got "x")',
    'wasmer.toml:11:1: command[0].annotations.wasi.env[0] must be "NAME=value" (got "NOEQUALS")',
  ]);
});

Deno.test("resolveWasmerPackage() accepts Wasmer's old command form", async () => {
  const pkg = await resolveIn({
    "wasmer.toml": `${MODULE}[[command]]\nname = "old"\nmodule = "app"\nmain_args = "--a  b"\n`,
    "app.wasm": WASM,
  });
  assert.equal(pkg.runner, "proxy");
  assert.equal(pkg.runnerUri, "wasi");
  assert.deepEqual(pkg.args, ["--a", "b"]);
});

Deno.test("resolveWasmerPackage() refuses [fs] mounts outside the package", async () => {
  for (const host of ["/", "..", "inner/../.."]) {
    const errors = await problems({
      "wasmer.toml": `[fs]\n"/x" = "${host}"\n${MODULE}`,
      "app.wasm": WASM,
      "inner/.keep": "",
    });
    assert.equal(errors.length, 1, host);
    assert.match(
      errors[0],
      /^wasmer\.toml:2:1: fs\["\/x"\] maps to .*outside the package directory/,
    );
  }
});

Deno.test("resolveWasmerPackage() refuses a symlink that leaves the package", async () => {
  const dir = await tempApp({ "wasmer.toml": `[fs]\n"/x" = "link"\n${MODULE}`, "app.wasm": WASM });
  try {
    await Deno.symlink("/tmp", join(dir, "link"));
    const text = await Deno.readTextFile(join(dir, "wasmer.toml"));
    await assert.rejects(
      () => resolveWasmerPackage(parseWasmerToml(text), join(dir, "wasmer.toml")),
      (e: unknown) => e instanceof ConfigError && /outside the package/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
