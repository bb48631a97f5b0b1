import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError, type ConfigIssue, formatIssue, parseAppYaml } from "../../config/mod.ts";

const BASE = "kind: wasmer.io/App.v0\nname: hello\npackage: app.wasm\n";

/** Parses text that must fail and returns every error, formatted. */
function errorsOf(source: string): string[] {
  try {
    parseAppYaml(source);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map(formatIssue);
    throw e;
  }
  assert.fail("expected a ConfigError");
}

function warningsOf(source: string): string[] {
  return parseAppYaml(source).warnings.map(formatIssue);
}

Deno.test("parseAppYaml() accepts a minimal app", () => {
  const { config, warnings } = parseAppYaml(BASE);
  assert.equal(config.kind, "wasmer.io/App.v0");
  assert.equal(config.name, "hello");
  assert.equal(config.package, "app.wasm");
  assert.deepEqual(warnings, []);
});

Deno.test("parseAppYaml() accepts every Wasmer field", () => {
  const { config, warnings } = parseAppYaml(`
kind: wasmer.io/App.v0
name: full-app
description: Everything
owner: me
app_id: da_123
package: .
runner: wcgi
domains: [full.example.com, "*.full.example.com"]
locality:
  regions: [eu-rome]
env:
  A: "1"
  EMPTY: ""
cli_args: [--port, "8080"]
debug: true
scaling:
  mode: single_concurrency
redirect:
  force_https: true
volumes:
  - name: data
    mount: /data
capabilities:
  memory:
    limit: 1 GiB
  runtime:
    async_threads: true
  instaboot:
    mode: bootstrap
    max_age: 1d
    requests:
      - path: /
      - path: /api?x=1
        method: POST
        headers:
          - name: content-type
            value: application/json
        body: '{"a":1}'
        timeout: 30s
        expect:
          status_codes: [200, 201]
          body_includes: ok
          body_regex: "^o"
health_checks:
  - http:
      path: /health
      interval: 10s
      unhealthy_threshold: 3
      healthy_threshold: 2
`);
  assert.equal(config.capabilities?.memory?.limit, "1 GiB");
  assert.equal(config.capabilities?.instaboot?.requests?.length, 2);
  assert.equal(config.health_checks?.[0].http.unhealthy_threshold, 3);
  assert.deepEqual(warnings, []);
});

Deno.test("parseAppYaml() reports the brief's example error at its line and column", () => {
  const errors = errorsOf(`${BASE}capabilities:
  instaboot:
    requests:
      - path: /ok
      - path: api/warm
`);
  assert.deepEqual(errors, [
    'app.yaml:8:15: capabilities.instaboot.requests[1].path must start with "/" (got "api/warm")',
  ]);
});

Deno.test("parseAppYaml() reports every error at once, in file order", () => {
  const errors = errorsOf(`kind: wasmer.io/App.v1
name: Hello_World
package: ./app.wasm
env:
  PORT: 8080
capabilities:
  memory:
    limit: lots
  instaboot:
    mode: idle
    max_age: 1.5h
    requests:
      - path: api
        body: hi
        expect:
          status_codes: [200, 99]
          body_regex: "("
scaling:
  mode: many
health_checks:
  - http:
      path: /health
      interval: 5x
`);
  assert.deepEqual(errors, [
    'app.yaml:1:7: kind must be "wasmer.io/App.v0" (got "wasmer.io/App.v1")',
    'app.yaml:2:7: name must be lowercase letters, digits and "-", not starting or ending with "-" (got "Hello_World")',
    'app.yaml:5:9: env.PORT must be a string; quote the value: "8080"',
    'app.yaml:8:12: capabilities.memory.limit must be a size like "256MB", "512 MiB" or "1 GiB" (got "lots")',
    'app.yaml:10:11: capabilities.instaboot.mode "idle" is a Wasmer trigger that Thaw does not support; use one of "bootstrap", "first-listen", "first-stdin", "explicit"',
    'app.yaml:11:14: capabilities.instaboot.max_age must be a duration like "30s", "5m", "2h" or "1d" (a whole number and s, m, h or d) (got "1.5h")',
    'app.yaml:13:15: capabilities.instaboot.requests[0].path must start with "/" (got "api")',
    "app.yaml:14:15: capabilities.instaboot.requests[0].body cannot be sent with method GET; add `method: POST`",
    "app.yaml:16:31: capabilities.instaboot.requests[0].expect.status_codes[1] must be an HTTP status code (100-599)",
    "app.yaml:17:23: capabilities.instaboot.requests[0].expect.body_regex must be a valid regular expression (Invalid regular expression: /(/: Unterminated group)",
    'app.yaml:19:9: scaling.mode must be "single_concurrency" (got "many")',
    'app.yaml:23:17: health_checks[0].http.interval must be a duration like "30s", "5m", "2h" or "1d" (a whole number and s, m, h or d) (got "5x")',
  ]);
});

Deno.test("parseAppYaml() says how to add missing required fields", () => {
  assert.deepEqual(errorsOf("name: hi\n"), [
    "app.yaml:1:1: kind is required; add `kind: wasmer.io/App.v0`",
    "app.yaml:1:1: package is required; add `package: app.wasm` or `package: .` (a directory with a wasmer.toml)",
  ]);
  assert.deepEqual(
    errorsOf(`${BASE}capabilities:\n  instaboot:\n    requests:\n      - method: GET\n`),
    [
      "app.yaml:7:9: capabilities.instaboot.requests[0].path is required; add `path: /`",
    ],
  );
});

Deno.test("parseAppYaml() names wrong types plainly", () => {
  const errors = errorsOf(`${BASE}domains: example.com\ncli_args: [1]\ndebug: "yes"\n`);
  assert.deepEqual(errors, [
    'app.yaml:4:10: domains must be a list (got "example.com")',
    "app.yaml:5:12: cli_args[0] must be a string (got 1)",
    'app.yaml:6:8: debug must be true or false (got "yes")',
  ]);
});

Deno.test("parseAppYaml() warns about unknown keys and suggests close ones", () => {
  const warnings = warningsOf(
    `${BASE}domainz: [a.com]\nfoo: 1\ncapabilities:\n  memory:\n    limt: 1MB\n`,
  );
  assert.deepEqual(warnings, [
    'app.yaml:4:1: warning: domainz is an unknown key and is ignored (did you mean "domains"?)',
    "app.yaml:5:1: warning: foo is an unknown key and is ignored (Thaw does not know it; check its spelling)",
    'app.yaml:8:5: warning: capabilities.memory.limt is an unknown key and is ignored (did you mean "limit"?)',
  ]);
  const { config } = parseAppYaml(`${BASE}domainz: [a.com]\n`);
  assert.equal("domainz" in config, false);
});

Deno.test("parseAppYaml() warns about Wasmer features Thaw ignores", () => {
  const warnings = warningsOf(
    `${BASE}vault: v\njobs: []\ncapabilities:\n  database:\n    engine: mysql\n`,
  );
  assert.equal(warnings.length, 3);
  assert.match(warnings[0], /^app\.yaml:4:8: warning: vault vaults are not supported/);
  assert.match(warnings[1], /^app\.yaml:5:7: warning: jobs jobs are not supported/);
  assert.match(warnings[2], /^app\.yaml:8:5: warning: capabilities\.database databases/);
});

Deno.test("parseAppYaml() accepts Wasmer's triggers form and Thaw's shorthand", () => {
  const wasmer = parseAppYaml(
    `${BASE}capabilities:\n  instaboot:\n    mode:\n      triggers: [first-listen, explicit]\n`,
  );
  assert.deepEqual(wasmer.config.capabilities?.instaboot?.mode, {
    triggers: ["first-listen", "explicit"],
  });
  for (const mode of ["bootstrap", "first-listen", "first-stdin", "explicit"]) {
    const { config } = parseAppYaml(`${BASE}capabilities:\n  instaboot:\n    mode: ${mode}\n`);
    assert.equal(config.capabilities?.instaboot?.mode, mode);
  }
  assert.deepEqual(
    errorsOf(`${BASE}capabilities:\n  instaboot:\n    mode:\n      triggers: [sigint, nope]\n`),
    [
      'app.yaml:7:18: capabilities.instaboot.mode.triggers[0] "sigint" is a Wasmer trigger that Thaw does not support; use one of "first-listen", "first-stdin", "explicit"',
      'app.yaml:7:26: capabilities.instaboot.mode.triggers[1] must be one of "first-listen", "first-stdin", "explicit" (got "nope")',
    ],
  );
  assert.deepEqual(
    errorsOf(`${BASE}capabilities:\n  instaboot:\n    mode: 3\n`),
    ["app.yaml:6:11: capabilities.instaboot.mode must be a string or a mapping (got 3)"],
  );
});

Deno.test("parseAppYaml() warns that first-listen sends no requests", () => {
  const warnings = warningsOf(
    `${BASE}capabilities:\n  instaboot:\n    mode: first-listen\n    requests:\n      - path: /\n`,
  );
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    /^app\.yaml:8:7: warning: capabilities\.instaboot\.requests are not sent/,
  );
});

Deno.test("parseAppYaml() accepts headers as a list or a mapping", () => {
  const list = parseAppYaml(
    `${BASE}capabilities:\n  instaboot:\n    requests:\n      - path: /\n        headers:\n          - {name: x-a, value: b}\n`,
  );
  assert.deepEqual(list.config.capabilities?.instaboot?.requests?.[0].headers, [
    { name: "x-a", value: "b" },
  ]);
  const map = parseAppYaml(
    `${BASE}capabilities:\n  instaboot:\n    requests:\n      - path: /\n        headers: {x-a: b}\n`,
  );
  assert.deepEqual(map.config.capabilities?.instaboot?.requests?.[0].headers, { "x-a": "b" });
  assert.deepEqual(
    errorsOf(
      `${BASE}capabilities:\n  instaboot:\n    requests:\n      - path: /\n        headers:\n          - {name: "bad name", value: b}\n`,
    ),
    [
      'app.yaml:9:20: capabilities.instaboot.requests[0].headers[0].name must be a valid HTTP header name (got "bad name")',
    ],
  );
});

Deno.test("parseAppYaml() checks domains and memory limits", () => {
  assert.deepEqual(errorsOf(`${BASE}domains: [a.com, a.com, "Bad Host"]\n`), [
    'app.yaml:4:18: domains[1] repeats "a.com"; remove it',
    'app.yaml:4:25: domains[2] must be a lowercase host name like "app.example.com" (got "Bad Host")',
  ]);
  assert.equal(
    parseAppYaml(`${BASE}capabilities:\n  memory:\n    limit: 1048576\n`).config.capabilities
      ?.memory?.limit,
    1048576,
  );
});

Deno.test("parseAppYaml() reports YAML syntax errors with positions", () => {
  assert.deepEqual(errorsOf("a: [1\nb: 2\n"), [
    "app.yaml:2:1: Flow sequence in block collection must be sufficiently indented and end with a ]",
  ]);
  assert.deepEqual(errorsOf("name: a\nname: b\n"), ["app.yaml:2:1: Map keys must be unique"]);
});

Deno.test("parseAppYaml() explains empty and non-mapping files", () => {
  assert.deepEqual(errorsOf(""), [
    "app.yaml:1:1: is empty; start it with `kind: wasmer.io/App.v0`, `name:` and `package:`",
  ]);
  assert.deepEqual(errorsOf("- 1\n"), [
    "app.yaml:1:1: must be a mapping of keys such as `kind:`, `name:` and `package:`",
  ]);
});

Deno.test("parseAppYaml() uses the file name it is given", () => {
  const errors: ConfigIssue[] = (() => {
    try {
      parseAppYaml("name: x\n", { file: "apps/x/app.yaml" });
    } catch (e) {
      return (e as ConfigError).issues as ConfigIssue[];
    }
    return [];
  })();
  assert.equal(errors[0].file, "apps/x/app.yaml");
});

Deno.test("parseAppYaml() never throws anything but ConfigError", () => {
  const yamlish = fc.oneof(
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.constantFrom(BASE, `${BASE}capabilities:\n  instaboot:\n    requests: [`, "*a\n", "&a [*a]"),
  );
  fc.assert(
    fc.property(yamlish, fc.string(), (a, b) => {
      for (const source of [a, BASE + a, BASE + b + a]) {
        try {
          parseAppYaml(source);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          for (const issue of e.issues) assert.ok(issue.line >= 0 && issue.column >= 0);
        }
      }
    }),
    { numRuns: 300 },
  );
});
