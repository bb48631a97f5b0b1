import { bootRackInstance, createRackRunner, loadRubyProgram, readRackApp, RUBY_WASM_PATH } from "../runtime/runners/rack.ts";
const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
const inst = bootRackInstance(program, app, { log: () => {} });
const runner = createRackRunner(inst);
for (const p of ["/", "/posts/how-restore-works", "/api/posts", "/archive", "/api/search?q=ruby", "/healthz"]) {
  const xs = [];
  for (let i = 0; i < Number(Deno.env.get("ITER") ?? 30); i++) { await (await runner.handle(new Request("http://localhost" + p))).arrayBuffer(); xs.push(inst.lastServeMs); }
  xs.sort((a, b) => a - b);
  console.log(p.padEnd(28), "p50", xs[xs.length >> 1].toFixed(3), "min", xs[0].toFixed(3));
}
