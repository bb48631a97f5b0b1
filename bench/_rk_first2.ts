import { loadRubyProgram } from "../runtime/runners/rack.ts";
import { newMemory } from "../runtime/runners/ruby/instance.ts";
const program = await loadRubyProgram(await Deno.readFile("/tmp/rkpc/ruby.prepared.wasm"));
const memory = newMemory(program, 1200);
const stub: Record<string, Record<string, unknown>> = {};
for (const i of WebAssembly.Module.imports(program.module)) { stub[i.module] ??= {}; if (i.kind === "function") stub[i.module][i.name] = () => 0; }
stub.thaw.memory = memory;
const P = (WebAssembly as any).promising;
const rows: number[][] = [];
for (let k = 0; k < 30; k++) {
  const inst = new WebAssembly.Instance(program.module, stub as WebAssembly.Imports);
  const f = inst.exports["rb-gc-enable: func() -> bool"] as () => number;
  let t = performance.now(); const pf = P(f); const wrap = performance.now() - t;
  t = performance.now(); await pf(); const c1 = performance.now() - t;
  t = performance.now(); await pf(); const c2 = performance.now() - t;
  const g = inst.exports["rb-gc-disable: func() -> bool"] as () => number;
  t = performance.now(); g(); const d1 = performance.now() - t;
  t = performance.now(); g(); const d2 = performance.now() - t;
  rows.push([wrap, c1, c2, d1, d2]);
}
const s = (k: number) => { const x = rows.map((r) => r[k]).sort((p, q) => p - q); return `min ${x[0].toFixed(3)} p50 ${x[x.length >> 1].toFixed(3)}`; };
console.log("promising()", s(0), "| call1", s(1), "| call2", s(2), "| direct1", s(3), "| direct2", s(4));
