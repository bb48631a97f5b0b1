import { prepareRubyModule, RACK_BOOT_URL, RUBY_WASM_PATH, snapshotRackApp, loadRubyProgram, readRackApp } from "../runtime/runners/rack.ts";
const prepared = await prepareRubyModule(await Deno.readFile(RUBY_WASM_PATH));
const module = await WebAssembly.compile(prepared);
const dir = new URL("../examples/ruby-blog", import.meta.url).pathname;
let journalPath: string | undefined;
if (Deno.args[0] === "restore") {
  const snap = await snapshotRackApp(await loadRubyProgram(prepared), await readRackApp(dir), [{ path: "/" }], { log: () => {} });
  journalPath = await Deno.makeTempFile({ suffix: ".journal" });
  await Deno.writeFile(journalPath, snap.journal);
}
const w = new Worker(new URL("../runtime/instance/worker.ts", import.meta.url), { type: "module" });
const t0 = performance.now();
w.onmessage = (e) => {
  const m = e.data;
  console.log((performance.now() - t0).toFixed(1), m.t, m.t === "res" ? [m.status, m.body?.length] : JSON.stringify(m).slice(0, 300));
  if (m.t === "ready") w.postMessage({ t: "req", id: 1, method: "GET", url: "http://localhost/posts/hello-thaw", headers: [], body: null });
  if (m.t === "res" || m.t === "err" || m.t === "boot-error") { w.terminate(); }
};
w.postMessage({ t: "init", module, bootUrl: RACK_BOOT_URL, spec: { name: "ruby-blog", runner: "rack", env: {}, args: [], wasmPath: "x", mounts: [{ guest: "/app", host: dir }], journalPath } });
