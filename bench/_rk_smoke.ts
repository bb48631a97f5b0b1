import { loadRubyProgram, RubyInstance } from "/work/main/runtime/runners/ruby/instance.ts";
const bytes = await Deno.readFile("/work/main/node_modules/@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm");
const program = await loadRubyProgram(bytes);
console.log("prepare", program.prepareMs, "compile", program.compileMs, program.facts.memoryMinPages, program.facts.memoryMaxPages, program.facts.dataSegments.length, program.facts.mutableGlobals);
const app = { files: new Map([["app.rb", new TextEncoder().encode(`
require "json"
run ->(env) { [200, {"content-type" => "text/plain"}, ["hello #{env["PATH_INFO"]} #{env["QUERY_STRING"]} #{env["rack.input"].read}"]] }
`)]]) };
let t = performance.now();
const inst = RubyInstance.boot(program, app);
console.log("boot", performance.now() - t, inst.phases);
console.log(inst.evalString("RUBY_VERSION"));
const meta = ["GET", "/x", "a=1", "localhost", "80", "http", "accept", "*/*"].join("\0");
const mb = new TextEncoder().encode(meta); const body = new TextEncoder().encode("BODY");
const req = new Uint8Array(8 + mb.length + body.length); const dv = new DataView(req.buffer);
dv.setUint32(0, mb.length, true); dv.setUint32(4, body.length, true); req.set(mb, 8); req.set(body, 8 + mb.length);
t = performance.now();
inst.serve(req, (f) => console.log(f.tag, f.tag === "B" ? new TextDecoder().decode(f.chunk) : JSON.stringify(f)));
console.log("serve", performance.now() - t);
t = performance.now();
inst.serve(req, (f) => {});
console.log("serve2", performance.now() - t);
try { inst.evalString(`JS.global[:x].to_s`); } catch (e) { console.log("JS:", e.message.slice(0, 300)); }
try { inst.evalString(`require "js"; JS.eval("1").to_s`); } catch (e) { console.log("JS2:", e.message.slice(0, 300)); }
t = performance.now();
const img = inst.capture();
console.log("capture", performance.now() - t, img.pages, img.runs.length, img.runs.reduce((n, r) => n + r.bytes.length, 0), img.globals);
t = performance.now();
const r = RubyInstance.restore(program, app, img);
console.log("restore", performance.now() - t, r.phases);
t = performance.now();
r.serve(req, (f) => console.log("R", f.tag, f.tag === "B" ? new TextDecoder().decode(f.chunk) : JSON.stringify(f)));
console.log("serve restored", performance.now() - t);
