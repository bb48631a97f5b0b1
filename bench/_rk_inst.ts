import { loadRubyProgram, RUBY_WASM_PATH, readRackApp, bootRackInstance, createRackRunner, encodeRackRequest } from "../runtime/runners/rack.ts";
import { appHash, decodeRubyJournal, encodeRubyJournal } from "../runtime/runners/ruby/journal.ts";
import { newMemory, RubyInstance } from "../runtime/runners/ruby/instance.ts";
import { createGuestSystem } from "../runtime/runners/ruby/system.ts";
import { RequestChannel, ResponseChannel } from "../runtime/runners/ruby/channel.ts";
import { RbValueTable } from "../runtime/runners/ruby/abi.ts";
import { jsInteropImports } from "../runtime/runners/ruby/js_interop.ts";
const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
const inst = bootRackInstance(program, app);
const runner = createRackRunner(inst);
for (const p of ["/", "/posts/hello-thaw", "/api/posts", "/tags/ruby"]) await (await runner.handle(new Request("http://localhost" + p))).text();
const image = decodeRubyJournal(encodeRubyJournal(inst, { configHash: await appHash(app) }));
const mems = Array.from({ length: 10 }, () => { const m = newMemory(program, image.pages); new Uint8Array(m.buffer).fill(0); return m; });
for (const memory of mems) {
  const t0 = performance.now();
  const sys = createGuestSystem({ args: ["ruby.wasm"], env: {}, stdin: new RequestChannel(), stdout: new ResponseChannel(), stderr: () => {}, mounts: { "/app": app.files } });
  const t1 = performance.now();
  const table = new RbValueTable();
  const js = jsInteropImports({ memory: () => memory, realloc: () => 0 });
  const imports = { wasi_snapshot_preview1: sys.imports, canonical_abi: { ...table.imports(), ...js.canonical }, "rb-js-abi-host": js.host, thaw: { memory } };
  const t2 = performance.now();
  const i = new WebAssembly.Instance(program.module, imports);
  const t3 = performance.now();
  const i2 = new WebAssembly.Instance(program.module, imports);
  const t4 = performance.now();
  console.log("sys", (t1 - t0).toFixed(2), "imports", (t2 - t1).toFixed(2), "instance", (t3 - t2).toFixed(2), "again", (t4 - t3).toFixed(2));
}
// exec breakdown
const req = encodeRackRequest(new Request("http://localhost/posts/hello-thaw"), new Uint8Array());
for (let k = 0; k < 5; k++) {
  const m = newMemory(program, image.pages); new Uint8Array(m.buffer).fill(0);
  const r = RubyInstance.restore(program, app, image, { memory: m, log: () => {} });
  let t = performance.now();
  r.serve(req, () => {});
  const a = performance.now() - t;
  t = performance.now();
  r.serve(req, () => {});
  const b = performance.now() - t;
  t = performance.now();
  r.serve(req, () => {});
  console.log("serve first", a.toFixed(2), "second", b.toFixed(2), "third", (performance.now() - t).toFixed(2));
}
