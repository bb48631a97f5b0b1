import { loadRubyProgram } from "/work/main/runtime/runners/ruby/instance.ts";
import { RbValueTable, RubyAbi } from "/work/main/runtime/runners/ruby/abi.ts";
import { jsInteropImports } from "/work/main/runtime/runners/ruby/js_interop.ts";
import { createGuestSystem } from "/work/main/runtime/runners/ruby/system.ts";
import { RequestChannel, ResponseChannel } from "/work/main/runtime/runners/ruby/channel.ts";
const program = await loadRubyProgram(await Deno.readFile("/work/main/node_modules/@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm"));
const memory = new WebAssembly.Memory({ initial: program.facts.memoryMinPages });
const u8 = new Uint8Array(memory.buffer);
for (const s of program.facts.dataSegments) u8.set(s.bytes, s.offset);
const sys = createGuestSystem({ args: ["ruby.wasm"], env: {}, stdin: new RequestChannel(), stdout: new ResponseChannel(), stderr: (l) => console.log("ERR", l), mounts: { "/app": new Map() } });
sys.attach(memory);
const table = new RbValueTable();
let ex: any;
const js = jsInteropImports({ memory: () => memory, realloc: (a, b, c, d) => ex.cabi_realloc(a, b, c, d) });
const inst = new WebAssembly.Instance(program.module, { wasi_snapshot_preview1: sys.imports, canonical_abi: { ...table.imports(), ...js.canonical }, "rb-js-abi-host": js.host, thaw: { memory } });
ex = inst.exports;
ex._initialize();
const abi = new RubyAbi(inst, table);
abi.init(["ruby.wasm", "-EUTF-8", "-e_=0"]);
abi.initLoadpath();
console.log(abi.evalString("RUBY_VERSION"));
for (const code of [`$stderr.puts "hi"`, `require "stringio"`, `IO.for_fd(0, "rb", autoclose: false)`, `x = IO.for_fd(1, "wb", autoclose: false); x.sync = true`, `raise "boom"`]) {
  try { abi.eval(code); console.log("ok", code); } catch (e) { console.log("FAIL", code, e.message); }
}
