import { prepareRubyModule, RUBY_WASM_PATH, snapshotRackApp, loadRubyProgram, readRackApp } from "../runtime/runners/rack.ts";
const prepared = await prepareRubyModule(await Deno.readFile(RUBY_WASM_PATH));
await Deno.writeFile("/tmp/rkpc/ruby.prepared.wasm", prepared);
const snap = await snapshotRackApp(await loadRubyProgram(prepared), await readRackApp(new URL("../examples/ruby-blog", import.meta.url)), [{ path: "/" }, { path: "/posts/hello-thaw" }, { path: "/api/posts" }, { path: "/tags/ruby" }], { log: () => {} });
await Deno.writeFile("/tmp/rkpc/app.journal", snap.journal);
