import { createRackRunner, decodeRubyJournal, loadRubyProgram, MemoryPool, readRackApp, RubyInstance, encodeRackRequest } from "../runtime/runners/rack.ts";
const program = await loadRubyProgram(await Deno.readFile("/tmp/rkpc/ruby.prepared.wasm"));
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
const image = decodeRubyJournal(await Deno.readFile("/tmp/rkpc/app.journal"));
const pool = new MemoryPool({ maxIdle: 3, sliceBytes: 4 << 20 });
await pool.prefill(image.pages, 3);
const path = Deno.args[0] ?? "/posts/how-restore-works";
const req = encodeRackRequest(new Request("http://localhost" + path), new Uint8Array());
const a: number[] = [], b: number[] = [], c: number[] = [], m: number[] = [], ins: number[] = [];
for (let i = 0; i < 40; i++) {
  const memory = pool.take(image.pages);
  const inst = RubyInstance.restore(program, app, image, { memory, log: () => {} });
  m.push(inst.phases.memory); ins.push(inst.phases.instantiate);
  const mode = Deno.env.get("PRE");
  if (mode === "eval") inst.evalString('""');
  if (mode === "touch") { const u = new Uint32Array(memory.buffer); let x = 0; for (let k = 0; k < u.length; k += 16) x ^= u[k]; if (x === 12345) console.log(x); }
  const g0 = Deno.env.get("GC") ? inst.evalString("GC.stat.values_at(:count, :minor_gc_count, :major_gc_count).join(',')") : "";
  await inst.serve(req, () => {}); a.push(inst.lastServeMs);
  if (Deno.env.get("GC")) console.log(g0, inst.evalString("GC.stat.values_at(:count, :minor_gc_count, :major_gc_count).join(',')"), inst.lastServeMs.toFixed(2));
  await inst.serve(req, () => {}); b.push(inst.lastServeMs);
  await inst.serve(req, () => {}); c.push(inst.lastServeMs);
  pool.give(memory);
  await pool.idle();
}
const s = (x: number[]) => { x.sort((p, q) => p - q); return `min ${x[0].toFixed(3)} p50 ${x[x.length >> 1].toFixed(3)}`; };
console.log(path, "| memory", s(m), "| inst", s(ins), "| first", s(a), "| second", s(b), "| third", s(c));
