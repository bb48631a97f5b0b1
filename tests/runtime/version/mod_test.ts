import assert from "node:assert/strict";
import { THAW_VERSION } from "../../../runtime/version/mod.ts";
import { THAW_VERSION as SNAPSHOT_THAW_VERSION } from "../../../runtime/snapshot/mod.ts";

Deno.test("THAW_VERSION is a semantic version, the one the snapshot engine records", () => {
  assert.match(THAW_VERSION, /^\d+\.\d+\.\d+$/);
  assert.equal(SNAPSHOT_THAW_VERSION, THAW_VERSION);
});
