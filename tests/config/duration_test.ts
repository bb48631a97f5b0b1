import assert from "node:assert/strict";
import { parseDuration } from "../../config/mod.ts";

Deno.test("parseDuration() reads Wasmer's s, m, h and d units in either case", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("1d"), 86_400_000);
  assert.equal(parseDuration("1D"), 86_400_000);
  assert.equal(parseDuration("0s"), 0);
});

Deno.test("parseDuration() rejects fractions, signs, spaces and unknown units", () => {
  for (const bad of ["", "1.5h", "-1s", "1 s", "10", "s", "1w", "1ms", "1h30m"]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});
