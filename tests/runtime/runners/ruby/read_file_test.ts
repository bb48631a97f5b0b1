import assert from "node:assert/strict";
import { readWholeFile } from "../../../../runtime/runners/ruby/read_file.ts";

Deno.test("readWholeFile() returns exactly the file's bytes, empty and large alike", async () => {
  const path = await Deno.makeTempFile();
  try {
    assert.equal((await readWholeFile(path)).length, 0);
    const big = new Uint8Array(5 * 1024 * 1024 + 7).map((_, i) => (i * 31) & 0xff);
    await Deno.writeFile(path, big);
    assert.deepEqual(await readWholeFile(path), big);
    assert.deepEqual(await readWholeFile(new URL(`file://${path}`)), big);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readWholeFile() rejects a missing file with Deno's NotFound", async () => {
  await assert.rejects(() => readWholeFile("/nonexistent/thaw/file"), Deno.errors.NotFound);
});
