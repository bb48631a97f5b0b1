import { bootRackInstance, loadRubyProgram } from "../runtime/runners/rack.ts";
const program = await loadRubyProgram(await Deno.readFile("/tmp/rkpc/ruby.prepared.wasm"));
const files = new Map([["app.rb", new TextEncoder().encode(`run ->(e) { [200, {}, []] }`)], ["sub/a.txt", new TextEncoder().encode("hello")]]);
const inst = await bootRackInstance(program, { files }, { log: (l) => console.log("LOG", l) });
for (const code of [
  `begin; f = File.open("/app/sub/a.txt", "w"); f.class.name; rescue => e; e.class.name; end`,
  `File.read("/app/sub/a.txt").inspect`,
  `begin; File.open("/app/sub/a.txt", "a") { |f| f.write("XX") }; "wrote"; rescue => e; e.class.name + ": " + e.message; end`,
  `File.read("/app/sub/a.txt").inspect`,
  `begin; File.open("/app/new.txt", "w") { |f| f.write("XX") }; "created"; rescue => e; e.class.name + ": " + e.message; end`,
  `begin; File.delete("/app/sub/a.txt"); "deleted"; rescue => e; e.class.name; end`,
  `begin; File.rename("/app/app.rb", "/app/b.rb"); "renamed"; rescue => e; e.class.name; end`,
]) {
  try { console.log(code.slice(0, 60).padEnd(62), "=>", await inst.evalString(code)); } catch (e) { console.log(code, "THREW", (e as Error).message.slice(0, 200)); }
}
console.log("host view", new TextDecoder().decode(files.get("sub/a.txt")));
