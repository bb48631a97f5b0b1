import { bootRackInstance, createRackRunner, loadRubyProgram, readRackApp, restoreRackInstance, RUBY_WASM_PATH } from "../runtime/runners/rack.ts";
import { appHash, decodeRubyJournal, encodeRubyJournal } from "../runtime/runners/ruby/journal.ts";
import { newMemory } from "../runtime/runners/ruby/instance.ts";
const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
console.log("prepare", program.prepareMs, "compile", program.compileMs);
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
const inst = bootRackInstance(program, app);
const runner = createRackRunner(inst);
for (const p of ["/", "/posts/hello-thaw", "/api/posts", "/tags/ruby"]) await (await runner.handle(new Request("http://localhost" + p))).text();
const configHash = await appHash(app);
for (const codec of ["lz4", "zstd", "none"] as const) {
  let t = performance.now();
  const bytes = encodeRubyJournal(inst, { configHash, codec });
  const enc = performance.now() - t;
  t = performance.now();
  const image = decodeRubyJournal(bytes, { configHash });
  console.log(codec, "size", bytes.length, "encode", enc.toFixed(1), "decode", (performance.now() - t).toFixed(1), "runs", image.runs.length, image.runs.reduce((n, r) => n + r.bytes.length, 0));
}
const bytes = encodeRubyJournal(inst, { configHash });
const image = decodeRubyJournal(bytes);
const req = () => new Request("http://localhost/posts/hello-thaw");
const sink = (l: string) => {};
for (let i = 0; i < 8; i++) {
  let t = performance.now();
  const r = restoreRackInstance(program, app, image, { log: sink });
  const t1 = performance.now();
  const res = await createRackRunner(r).handle(req());
  const txt = await res.text();
  console.log("fresh", r.phases.memory.toFixed(2), r.phases.instantiate.toFixed(2), "exec", (performance.now() - t1).toFixed(2), "total", (performance.now() - t).toFixed(2), res.status, txt.length);
}
// pooled pre-faulted memories
const pool = Array.from({ length: 8 }, () => { const m = newMemory(program, image.pages); new Uint8Array(m.buffer).fill(0); return m; });
for (const m of pool) {
  let t = performance.now();
  const r = restoreRackInstance(program, app, image, { log: sink, memory: m });
  const t1 = performance.now();
  const res = await createRackRunner(r).handle(req());
  await res.text();
  console.log("pooled", r.phases.memory.toFixed(2), r.phases.instantiate.toFixed(2), "exec", (performance.now() - t1).toFixed(2), "total", (performance.now() - t).toFixed(2));
}
