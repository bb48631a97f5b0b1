import { bootRackInstance, createRackRunner, loadRubyProgram, readRackApp, RUBY_WASM_PATH } from "../runtime/runners/rack.ts";
const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
const app = { files: new Map([["app.rb", new TextEncoder().encode(`run ->(env) { [200, {}, ["ok"]] }`)]]) };
const inst = bootRackInstance(program, app, { log: () => {} });
const runner = createRackRunner(inst);
const time = (label: string, fn: () => void) => { const xs = []; for (let i = 0; i < 50; i++) { const t = performance.now(); fn(); xs.push(performance.now() - t); } xs.sort((a, b) => a - b); console.log(label.padEnd(40), xs[25].toFixed(3)); };
time("evalString ''", () => inst.evalString('""'));
time("evalString 1000.times", () => inst.evalString('1000.times { }; ""'));
time("evalString clock", () => inst.evalString('Process.clock_gettime(Process::CLOCK_MONOTONIC); ""'));
time("evalString stderr.write", () => inst.evalString('Thaw::Rack::OUT.write("x"); ""'));
time("evalString StringIO", () => inst.evalString('StringIO.new("abc"); ""'));
for (let i = 0; i < 5; i++) { await (await runner.handle(new Request("http://localhost/"))).arrayBuffer(); }
const xs = [];
for (let i = 0; i < 50; i++) { await (await runner.handle(new Request("http://localhost/"))).arrayBuffer(); xs.push(inst.lastServeMs); }
xs.sort((a, b) => a - b); console.log("serve trivial", xs[25].toFixed(3));
