import { decodeRubyJournal, loadRubyProgram, MemoryPool, readRackApp, RubyInstance, encodeRackRequest } from "../runtime/runners/rack.ts";
const program = await loadRubyProgram(await Deno.readFile("/tmp/rkpc/ruby.prepared.wasm"));
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
const image = decodeRubyJournal(await Deno.readFile("/tmp/rkpc/app.journal"));
const pool = new MemoryPool({ maxIdle: 3, sliceBytes: 4 << 20 });
await pool.prefill(image.pages, 3);
const req = encodeRackRequest(new Request("http://localhost/healthz"), new Uint8Array());
const rows: number[][] = [];
for (let i = 0; i < 40; i++) {
  const memory = pool.take(image.pages);
  const inst = RubyInstance.restore(program, app, image, { memory, log: () => {} });
  let t = performance.now();
  await inst.evalString('""');
  const e1 = performance.now() - t;
  t = performance.now();
  await inst.evalString('""');
  const e2 = performance.now() - t;
  await inst.serve(req, () => {}); const s1 = inst.lastServeMs;
  await inst.serve(req, () => {}); const s2 = inst.lastServeMs;
  rows.push([e1, e2, s1, s2]);
  pool.give(memory); await pool.idle();
}
const s = (k: number) => { const x = rows.map((r) => r[k]).sort((p, q) => p - q); return `min ${x[0].toFixed(3)} p50 ${x[x.length >> 1].toFixed(3)}`; };
console.log("eval1", s(0), "| eval2", s(1), "| serve1", s(2), "| serve2", s(3));
