import { createRackRunner, decodeRubyJournal, loadRubyProgram, MemoryPool, readRackApp, RubyInstance } from "../runtime/runners/rack.ts";
const program = await loadRubyProgram(await Deno.readFile("/tmp/rkpc/ruby.prepared.wasm"));
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
const image = decodeRubyJournal(await Deno.readFile("/tmp/rkpc/app.journal"));
const pool = new MemoryPool({ maxIdle: 3, sliceBytes: 4 << 20 });
await pool.prefill(image.pages, 3);
const rows: number[][] = [];
for (let i = 0; i < 60; i++) {
  const t0 = performance.now();
  const memory = pool.take(image.pages);
  const inst = RubyInstance.restore(program, app, image, { memory, log: () => {} });
  const t1 = performance.now();
  const runner = createRackRunner(inst);
  const res = await runner.handle(new Request("http://localhost/posts/how-restore-works"));
  const t2 = performance.now();
  const body = await res.arrayBuffer();
  const t3 = performance.now();
  pool.give(memory);
  rows.push([inst.phases.memory, inst.phases.instantiate, t1 - t0, inst.lastServeMs, t2 - t1, t3 - t2, t3 - t0]);
  await pool.idle();
}
const names = ["memory", "instantiate", "restore()", "exec", "handle()", "body", "total"];
const s = (k: number, p: number) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length * p)].toFixed(3);
for (let k = 0; k < names.length; k++) console.log(names[k].padEnd(12), "min", s(k, 0), "p25", s(k, 0.25), "p50", s(k, 0.5));
