import assert from "node:assert/strict";
import { lineSink } from "../../../runtime/wasi/mod.ts";

Deno.test("lineSink() hands over whole lines, keeps a partial one, and joins split UTF-8", () => {
  const lines: string[] = [];
  const write = lineSink((line) => lines.push(line));
  const bytes = new TextEncoder().encode("héllo\nwor");
  // Split inside the two-byte "é".
  write(bytes.subarray(0, 2));
  write(bytes.subarray(2));
  assert.deepEqual(lines, ["héllo"]);
  write(new TextEncoder().encode("ld\n\nlast"));
  assert.deepEqual(lines, ["héllo", "world", ""]);
});
