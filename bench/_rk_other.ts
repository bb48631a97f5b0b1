import { createRackRunner, decodeRubyJournal, loadRubyProgram, MemoryPool, readRackApp, RubyInstance } from "../runtime/runners/rack.ts";
const program = await loadRubyProgram(await Deno.readFile("/tmp/rkpc/ruby.prepared.wasm"));
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
const image = decodeRubyJournal(await Deno.readFile("/tmp/rkpc/app.journal"));
const pool = new MemoryPool({ maxIdle: 3, sliceBytes: 4 << 20 });
await pool.prefill(image.pages, 3);
const rows = [];
for (let i = 0; i < 40; i++) {
  const t0 = performance.now();
  const memory = pool.take(image.pages);
  const t1 = performance.now();
  const inst = RubyInstance.restore(program, app, image, { memory, log: () => {} });
  const t2 = performance.now();
  const runner = createRackRunner(inst);
  const res = await runner.handle(new Request("http://localhost/posts/how-restore-works"));
  const t3 = performance.now();
  const body = await res.arrayBuffer();
  const t4 = performance.now();
  pool.give(memory);
  rows.push([t2 - t1, inst.phases.memory, inst.phases.instantiate, t3 - t2, inst.lastServeMs, t4 - t3, t4 - t0]);
  await pool.idle();
}
const med = (k: number) => rows.map((r) => r[k]).sort((a, b) => a - b)[rows.length >> 1].toFixed(3);
console.log("restore-total", med(0), "memory", med(1), "inst", med(2), "handle", med(3), "exec", med(4), "body", med(5), "total", med(6));
