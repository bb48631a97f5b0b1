import assert from "node:assert/strict";
import { createHost } from "../../../runtime/host/mod.ts";
import { warm } from "../../../runtime/snapshot/boot.ts";
import { readPrepareInfo, sha256Hex } from "../../../runtime/snapshot/mod.ts";
import { fakeApp } from "./_helpers.ts";

const ROOT = new URL("../../../", import.meta.url);

Deno.test("the blank Workers' warm-up guest restores from its journal", async () => {
  // A journal the runtime no longer accepts would silently turn the warm-up into a cold boot.
  assert.equal(await warm(), "restore");
  assert.equal(await warm(), "restore");
});

Deno.test("the warm-up guest is the committed build of tests/guests/snap_server.c", async () => {
  const prepared = await WebAssembly.compile(
    await Deno.readFile(new URL("runtime/snapshot/warmup/server.wasm", ROOT)),
  );
  const source = await Deno.readFile(new URL("tests/guests/wasm/snap_server.wasm", ROOT));
  assert.equal(readPrepareInfo(prepared)?.inputHash, await sha256Hex(source));
});

const WARM_BOOT = new URL("./_warm_boot.ts", import.meta.url);

async function firstBody(bootUrl: string, prespawn: number): Promise<string> {
  const host = createHost({ apps: [fakeApp("w", { bootUrl })], prespawn });
  try {
    const res = await host.fetch(new Request("http://w.localhost/"));
    return await res.text();
  } finally {
    await host.close();
  }
}

Deno.test("a reserved blank Worker runs its boot module's warm-up before it serves", async () => {
  assert.equal(await firstBody(WARM_BOOT.href, 1), "warmed 1");
});

Deno.test("a Worker spawned for a waiting cold start skips the warm-up", async () => {
  assert.equal(await firstBody(WARM_BOOT.href, 0), "warmed 0");
});

Deno.test("a warm-up that never ends does not keep the blank Worker from serving", async () => {
  assert.equal(await firstBody(`${WARM_BOOT.href}?HANG`, 1), "warmed 0");
});
