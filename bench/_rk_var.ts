import { createRackRunner, decodeRubyJournal, loadRubyProgram, MemoryPool, readRackApp, RubyInstance, encodeRackRequest, appHash, encodeRubyJournal } from "../runtime/runners/rack.ts";
const program = await loadRubyProgram(await Deno.readFile("/tmp/rkpc/ruby.prepared.wasm"));
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
const variant = Deno.args[0];
const path = Deno.args[1] ?? "/healthz";
const inst0 = await RubyInstance.boot(program, app, { log: () => {} });
const r0 = createRackRunner(inst0);
const warm = async () => { for (const p of ["/", "/posts/hello-thaw", "/api/posts", "/tags/ruby", "/healthz"]) await (await r0.handle(new Request("http://localhost" + p))).arrayBuffer(); };
await warm();
if (variant !== "nogc") await inst0.evalString('GC.start(full_mark: true, immediate_sweep: true); ""');
if (variant === "rewarm") await warm();
const image = decodeRubyJournal(encodeRubyJournal(inst0, { configHash: await appHash(app) }));
const pool = new MemoryPool({ maxIdle: 3, sliceBytes: 4 << 20 });
await pool.prefill(image.pages, 3);
const req = encodeRackRequest(new Request("http://localhost" + path), new Uint8Array());
const a: number[] = [], b: number[] = [];
for (let i = 0; i < 40; i++) {
  const memory = pool.take(image.pages);
  const inst = RubyInstance.restore(program, app, image, { memory, log: () => {} });
  await inst.serve(req, () => {}); a.push(inst.lastServeMs);
  await inst.serve(req, () => {}); b.push(inst.lastServeMs);
  pool.give(memory); await pool.idle();
}
const s = (x: number[]) => { x.sort((p, q) => p - q); return `min ${x[0].toFixed(3)} p50 ${x[x.length >> 1].toFixed(3)}`; };
console.log(variant, path, "| first", s(a), "| second", s(b));
