const bytes = await Deno.readFile("/tmp/rkpc/ruby.prepared.wasm");
// parse sections
let pos = 8; const secs: { id: number; start: number; payload: number; end: number }[] = [];
const u32 = () => { let r = 0, s = 0, b; do { b = bytes[pos++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
while (pos < bytes.length) { const start = pos; const id = bytes[pos++]; const size = u32(); secs.push({ id, start, payload: pos, end: pos + size }); pos += size; }
for (const s of secs) if ([4, 9, 7].includes(s.id)) { pos = s.payload; console.log("section", s.id, "count", u32(), "bytes", s.end - s.payload); }
const t4 = secs.find((s) => s.id === 4)!; pos = t4.payload; u32(); const type = bytes[pos++]; const flags = bytes[pos++]; console.log("table type", type, "flags", flags, "min", u32());
// variant without element section
const parts = secs.filter((s) => s.id !== 9).map((s) => bytes.subarray(s.start, s.end));
const out = new Uint8Array(8 + parts.reduce((a, p) => a + p.length, 0)); out.set(bytes.subarray(0, 8)); let at = 8; for (const p of parts) { out.set(p, at); at += p.length; }
for (const [label, b] of [["with elems", bytes], ["no elems", out]] as const) {
  const m = await WebAssembly.compile(b);
  const memory = new WebAssembly.Memory({ initial: 1200 });
  const stub: Record<string, Record<string, unknown>> = {};
  for (const i of WebAssembly.Module.imports(m)) { stub[i.module] ??= {}; if (i.kind === "function") stub[i.module][i.name] = () => 0; }
  stub.thaw.memory = memory;
  const xs = [];
  for (let k = 0; k < 40; k++) { const t = performance.now(); new WebAssembly.Instance(m, stub as WebAssembly.Imports); xs.push(performance.now() - t); }
  xs.sort((a, b) => a - b); console.log(label, "min", xs[0].toFixed(3), "p50", xs[20].toFixed(3));
}
