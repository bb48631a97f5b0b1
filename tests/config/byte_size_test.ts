import assert from "node:assert/strict";
import { parseByteSize } from "../../config/mod.ts";

Deno.test("parseByteSize() reads decimal and binary units", () => {
  assert.equal(parseByteSize("256MB"), 256_000_000);
  assert.equal(parseByteSize("1 GiB"), 1024 ** 3);
  assert.equal(parseByteSize("512 KiB"), 512 * 1024);
  assert.equal(parseByteSize("2kb"), 2000);
  assert.equal(parseByteSize("1.5 GB"), 1_500_000_000);
  assert.equal(parseByteSize("4096"), 4096);
  assert.equal(parseByteSize("10 B"), 10);
  assert.equal(parseByteSize("3 M"), 3_000_000);
  assert.equal(parseByteSize("1 Mi"), 1024 * 1024);
});

Deno.test("parseByteSize() accepts a whole number of bytes", () => {
  assert.equal(parseByteSize(1024), 1024);
  assert.equal(parseByteSize(-1), undefined);
  assert.equal(parseByteSize(1.5), undefined);
});

Deno.test("parseByteSize() rejects what is not a size", () => {
  for (const bad of ["", "lots", "MB", "12 XB", "-1MB", "1e3", "1 GiBs", "1,5 MB"]) {
    assert.equal(parseByteSize(bad), undefined, bad);
  }
  assert.equal(parseByteSize("99999999999 PiB"), undefined);
});
