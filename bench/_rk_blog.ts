import { bootRackInstance, createRackRunner, loadRubyProgram, readRackApp, RUBY_WASM_PATH } from "../runtime/runners/rack.ts";
const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
let t = performance.now();
const inst = bootRackInstance(program, app);
console.log("boot", performance.now() - t, inst.phases);
const runner = createRackRunner(inst);
for (const p of Deno.args.length ? Deno.args : ["/", "/posts/hello-thaw", "/api/posts", "/tags/ruby", "/nope", "/api/search?q=restore", "/archive", "/about", "/search?q=erb", "/feed.json", "/static/style.css"]) {
  t = performance.now();
  const res = await runner.handle(new Request("http://localhost" + p));
  const text = await res.text();
  console.log(p, res.status, res.headers.get("content-type"), text.length, (performance.now() - t).toFixed(2), "ms");
  if (res.status >= 400 && p !== "/nope") console.log(text.slice(0, 2000));
}
const res = await runner.handle(new Request("http://localhost/api/preview", { method: "POST", body: JSON.stringify({ markdown: "# Hi\n\n*x*" }) }));
console.log(res.status, await res.text());
