import assert from "node:assert/strict";
import { ConfigError, type ConfigIssue, dottedPath, formatIssue } from "../../config/mod.ts";

const issue: ConfigIssue = {
  file: "app.yaml",
  line: 7,
  column: 5,
  path: "capabilities.instaboot.requests[0].path",
  message: 'must start with "/"',
  severity: "error",
};

Deno.test("formatIssue() writes file:line:column: path message", () => {
  assert.equal(
    formatIssue(issue),
    'app.yaml:7:5: capabilities.instaboot.requests[0].path must start with "/"',
  );
  assert.equal(
    formatIssue({ ...issue, severity: "warning", path: "", line: 0 }),
    'app.yaml: warning: must start with "/"',
  );
});

Deno.test("dottedPath() indexes lists and quotes odd keys", () => {
  assert.equal(dottedPath(["a", 0, "b"]), "a[0].b");
  assert.equal(dottedPath(["env", "MY.VAR"]), 'env["MY.VAR"]');
  assert.equal(dottedPath(["fs", "/public"]), 'fs["/public"]');
  assert.equal(dottedPath([]), "");
});

Deno.test("ConfigError carries its issues and lists them in its message", () => {
  const error = new ConfigError([issue, { ...issue, line: 9 }], [{
    ...issue,
    severity: "warning",
  }]);
  assert.equal(error.issues.length, 2);
  assert.equal(error.warnings.length, 1);
  assert.equal(error.message.split("\n").length, 2);
  assert.equal(error.name, "ConfigError");
});
