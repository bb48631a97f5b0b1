import assert from "node:assert/strict";
import {
  applyGlobals,
  applyMemoryImage,
  AsyncifyController,
  captureInstanceImage,
  instanceImageOf,
  type PrepareInfo,
  prepareModule,
  promising,
  restoreVariant,
  suspending,
} from "../../../runtime/snapshot/mod.ts";
import { buildGuest, CACHE_DIR } from "./_guests.ts";
import { Exit, MiniWasi } from "./_mini_wasi.ts";

interface Live {
  wasi: MiniWasi;
  ctl: AsyncifyController;
  instance: WebAssembly.Instance;
  start: () => Promise<unknown>;
}

function instantiate(module: WebAssembly.Module, info: PrepareInfo, memory?: WebAssembly.Memory) {
  const wasi = new MiniWasi();
  const ctl = new AsyncifyController(info);
  const raw = wasi.imports();
  const imports: Record<string, unknown> = { ...raw };
  imports.fd_read = suspending(ctl.wrap(raw.fd_read, "fd_read"));
  imports.fd_write = suspending(ctl.wrap(raw.fd_write, "fd_write"));
  const all: WebAssembly.Imports = {
    wasi_snapshot_preview1: imports as WebAssembly.ModuleImports,
  };
  if (memory) all.thaw = { memory };
  const instance = new WebAssembly.Instance(module, all);
  ctl.bind(instance);
  wasi.memory = instance.exports.memory as WebAssembly.Memory;
  const start = promising(instance.exports._start);
  return { wasi, ctl, instance, start: () => start() } satisfies Live;
}

async function bootAndCapture() {
  const prepared = await prepareModule(await buildGuest("snap_stdin"), { cacheDir: CACHE_DIR });
  const module = new WebAssembly.Module(prepared.bytes as Uint8Array<ArrayBuffer>);
  const live = instantiate(module, prepared.info);
  live.wasi.lines.push("warm-1", "warm-2");
  live.wasi.beforeBlock = () => "unwind";
  await live.start();
  assert.equal(live.ctl.state, "unwinding");
  assert.equal(live.ctl.unwindReason, "fd_read");
  const rewindData = live.ctl.finishUnwind();
  const records = captureInstanceImage(live.instance, prepared.info, { rewindData });
  return { prepared, live, records };
}

Deno.test("asyncify unwinds a guest blocked in fd_read and a restore resumes it there", async () => {
  const { prepared, live, records } = await bootAndCapture();
  assert.match(live.wasi.stdout, /^boot 1\nline 1 boots 1 sum \d+: warm-1\nline 2 boots 1/);
  const image = instanceImageOf(records);
  assert.ok(image.thread !== null && image.thread.rewindData.length > 0);

  const restoreModule = new WebAssembly.Module(
    restoreVariant(prepared.bytes) as Uint8Array<ArrayBuffer>,
  );
  for (let round = 0; round < 2; round++) {
    const fresh = instantiate(restoreModule, prepared.info);
    applyMemoryImage(fresh.instance.exports.memory as WebAssembly.Memory, image);
    applyGlobals(fresh.instance, prepared.info, image);
    let rewound = false;
    fresh.ctl.startRewind(image.thread!.rewindData, () => rewound = true);
    fresh.wasi.lines.push(`after-${round}`);
    const done = fresh.start().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    assert.ok(rewound);
    fresh.wasi.close();
    const result = await done;
    assert.ok(result === undefined || result instanceof Exit, String(result));
    // Boot code never ran again: no "boot" line, boots stays 1, the counter continues at 3 and
    // the cache built at boot is intact (same checksum as before the snapshot).
    const sum = /sum (\d+)/.exec(live.wasi.stdout)![1];
    assert.equal(fresh.wasi.stdout, `line 3 boots 1 sum ${sum}: after-${round}\neof after 3\n`);
  }
});

Deno.test("asyncify restore works with memory supplied as an import", async () => {
  const { prepared, live, records } = await bootAndCapture();
  const image = instanceImageOf(records);
  const module = new WebAssembly.Module(
    restoreVariant(prepared.bytes, { importMemory: true }) as Uint8Array<ArrayBuffer>,
  );
  const memory = new WebAssembly.Memory({ initial: image.pages });
  applyMemoryImage(memory, image);
  const fresh = instantiate(module, prepared.info, memory);
  assert.equal(fresh.instance.exports.memory, memory);
  applyGlobals(fresh.instance, prepared.info, image);
  fresh.ctl.startRewind(image.thread!.rewindData);
  fresh.wasi.lines.push("x");
  fresh.wasi.close();
  await fresh.start().catch((e: unknown) => assert.ok(e instanceof Exit));
  const sum = /sum (\d+)/.exec(live.wasi.stdout)![1];
  assert.equal(fresh.wasi.stdout, `line 3 boots 1 sum ${sum}: x\neof after 3\n`);
});

Deno.test("asyncify unwinds from a promise that resolves to UNWIND", async () => {
  const prepared = await prepareModule(await buildGuest("snap_stdin"), { cacheDir: CACHE_DIR });
  const module = new WebAssembly.Module(prepared.bytes as Uint8Array<ArrayBuffer>);
  const live = instantiate(module, prepared.info);
  let unwindNow = false;
  live.wasi.beforeBlock = () => unwindNow ? "unwind" : "block";
  const done = live.start();
  live.wasi.push("one");
  await new Promise((r) => setTimeout(r, 5));
  // The guest now waits in fd_read (a pending promise); the next read asks the hook again.
  unwindNow = true;
  live.wasi.push("two");
  await done;
  assert.equal(live.ctl.state, "unwinding");
  assert.ok(live.ctl.finishUnwind().length > 0);
  assert.match(live.wasi.stdout, /line 2 boots 1 sum \d+: two\n$/);
});
