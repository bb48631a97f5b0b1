import { loadRubyProgram, RUBY_WASM_PATH, readRackApp, bootRackInstance, createRackRunner } from "../runtime/runners/rack.ts";
import { appHash, decodeRubyJournal, encodeRubyJournal } from "../runtime/runners/ruby/journal.ts";
import { newMemory, RubyInstance } from "../runtime/runners/ruby/instance.ts";
const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
const inst = bootRackInstance(program, app);
const runner = createRackRunner(inst);
for (const p of ["/", "/posts/hello-thaw"]) await (await runner.handle(new Request("http://localhost" + p))).text();
const image = decodeRubyJournal(encodeRubyJournal(inst, { configHash: await appHash(app) }));
console.log("image pages", image.pages);
const m = newMemory(program, image.pages + 200);
const r = createRackRunner(RubyInstance.restore(program, app, image, { memory: m }));
for (let i = 0; i < 300; i++) {
  const res = await r.handle(new Request("http://localhost/api/preview", { method: "POST", body: JSON.stringify({ markdown: "x ".repeat(20000 + i * 100) }) }));
  if (res.status !== 200) { console.log(res.status, await res.text()); break; }
  await res.arrayBuffer();
}
console.log(r.instance.evalString("GC.start; GC.stat.inspect[0,200]"));
console.log("memory now", m.buffer.byteLength / 65536);
const res = await r.handle(new Request("http://localhost/"));
console.log(res.status, (await res.text()).length);
