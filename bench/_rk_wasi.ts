import { bootRackInstance, loadRubyProgram } from "../runtime/runners/rack.ts";
const program = await loadRubyProgram(await Deno.readFile("/tmp/rkpc/ruby.prepared.wasm"));
const app = { files: new Map([["app.rb", new TextEncoder().encode(`run ->(e) { [200, {}, []] }`)], ["sub/a.txt", new TextEncoder().encode("hello")]]) };
const inst = bootRackInstance(program, app, { log: (l) => console.log("LOG", l) });
for (const code of [
  `Dir.glob("/app/**/*").sort.inspect`,
  `File.stat("/app/sub/a.txt").size.to_s`,
  `File.mtime("/app/sub/a.txt").to_s`,
  `File.realpath("/app/sub/../sub/a.txt")`,
  `begin; File.read("/app/nope"); rescue => e; e.class.name; end`,
  `begin; File.read("/etc/passwd"); rescue => e; e.class.name; end`,
  `begin; File.read("/app/../../etc/passwd"); rescue => e; e.class.name; end`,
  `Dir.pwd`,
  `ENV.to_h.inspect`,
  `Time.now.to_s`,
  `Process.clock_gettime(Process::CLOCK_MONOTONIC).to_s`,
  `SecureRandom.hex(4) rescue (require "securerandom"; SecureRandom.hex(4))`,
  `begin; File.open("/app/sub/a.txt", "w"); rescue => e; e.class.name; end`,
  `begin; Dir.mkdir("/app/x"); rescue => e; e.class.name; end`,
  `begin; File.open("/tmp/x", "w") { |f| f.write("x") }; "ok"; rescue => e; e.class.name + e.message; end`,
  `File.exist?("/app/sub").to_s + File.directory?("/app/sub").to_s`,
  `$stdout.puts("to stdout"); "printed"`,
  
]) {
  try { console.log(code.slice(0, 50).padEnd(52), "=>", inst.evalString(code)); } catch (e) { console.log(code, "THREW", (e as Error).message.slice(0, 200)); }
}
