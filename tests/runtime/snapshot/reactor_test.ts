import assert from "node:assert/strict";
import {
  captureApp,
  captureInstanceImage,
  captureOsState,
  Guest,
  prepareModule,
  restoreInstance,
  restoreSourceOf,
} from "../../../runtime/snapshot/mod.ts";
import type { JournalRecord } from "../../../journal/mod.ts";
import { buildGuest, CACHE_DIR } from "./_guests.ts";

const config = { argv0: "reactor.wasm", args: [], env: {}, mounts: [] };

Deno.test("a reactor is snapshotted after init with an empty stack and restored without re-init", async () => {
  const prepared = await prepareModule(await buildGuest("snap_reactor", ["-mexec-model=reactor"]), {
    cacheDir: CACHE_DIR,
  });
  assert.equal(prepared.info.kind, "reactor");
  const module = await WebAssembly.compile(prepared.bytes as Uint8Array<ArrayBuffer>);
  const guest = Guest.create(module, prepared.info, config);
  assert.deepEqual(await guest.run("_initialize"), { kind: "exited", code: 0 });
  const ex = guest.instance.exports as Record<string, () => number>;
  // "Warm-up": a runner calls the exports.
  assert.equal(ex.inc(), 1);
  assert.equal(ex.inc(), 2);
  const sum = ex.checksum();
  const records: JournalRecord[] = [
    ...captureInstanceImage(guest.instance, prepared.info),
    ...captureOsState(guest).records,
    { kind: "snapshot", trigger: "explicit", timeNs: 0n },
  ];
  assert.ok(!records.some((r) => r.kind === "thread.state"), "an empty stack has no rewind data");
  assert.ok(records.some((r) => r.kind === "fs.write" && r.path === "tmp/reactor.txt"));

  const source = await restoreSourceOf(prepared.bytes, records);
  for (let i = 0; i < 2; i++) {
    const restored = restoreInstance(source, config);
    await restored.resumed;
    const rx = restored.guest.instance.exports as Record<string, () => number>;
    assert.equal(rx.inits(), 1, "the constructor did not run again");
    assert.equal(rx.inc(), 3);
    assert.equal(rx.checksum(), sum);
    assert.equal(await restored.guest.proc.call(rx.file_ok), 1);
  }
});

Deno.test("captureApp() snapshots a reactor right after _initialize", async () => {
  const prepared = await prepareModule(await buildGuest("snap_reactor", ["-mexec-model=reactor"]), {
    cacheDir: CACHE_DIR,
  });
  const result = await captureApp(
    { ...config, name: "reactor", runner: "proxy" },
    prepared,
    { configHash: "ab".repeat(32) },
  );
  assert.deepEqual(result.point, { syscall: "_initialize", reason: "explicit" });
  assert.ok(!result.records.some((r) => r.kind === "thread.state"));
  assert.equal(result.records[0].kind, "identity");
  assert.equal(result.records.at(-1)!.kind, "snapshot");
  const restored = restoreInstance(await restoreSourceOf(prepared.bytes, result.records), config);
  await restored.resumed;
  const rx = restored.guest.instance.exports as Record<string, () => number>;
  assert.equal(rx.inits(), 1);
  assert.equal(rx.inc(), 1);
});
