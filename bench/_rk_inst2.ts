import { loadRubyProgram, RUBY_WASM_PATH } from "../runtime/runners/rack.ts";
import { newMemory } from "../runtime/runners/ruby/instance.ts";
const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
const memory = newMemory(program, 1184);
const stub: Record<string, Record<string, unknown>> = {};
for (const i of WebAssembly.Module.imports(program.module)) {
  stub[i.module] ??= {};
  if (i.kind === "function") stub[i.module][i.name] = () => 0;
}
stub.thaw.memory = memory;
const times = [];
for (let k = 0; k < 40; k++) {
  const t = performance.now();
  new WebAssembly.Instance(program.module, stub as WebAssembly.Imports);
  times.push(performance.now() - t);
}
console.log(times.map((x) => x.toFixed(2)).join(" "));
