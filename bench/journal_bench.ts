/**
 * Journal codec benchmark on real content: the linear memory of ruby.wasm after `ruby-init` and a
 * few stdlib requires.
 *
 * For each memory codec it reports journal size against the guest's non-zero bytes, encode and
 * decode throughput, and decoding straight into a `WebAssembly.Memory` against a plain copy of the
 * same bytes (the physical limit), all measured side by side in one run.
 *
 * Run: `deno task bench:journal`. The memory dump is cached in bench/results/ruby-memory.bin; delete
 * it to boot Ruby again.
 *
 * @module
 */

import { DefaultRubyVM } from "@ruby/3.4-wasm-wasi/dist/browser";
import {
  applyMemoryRuns,
  captureMemoryRuns,
  encodeJournal,
  memoryImage,
  type MemoryRunRecord,
  readJournal,
  WASM_PAGE_SIZE,
} from "../journal/mod.ts";

const CACHE = new URL("./results/ruby-memory.bin", import.meta.url);
const RUBY_WASM = new URL(
  "../node_modules/@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm",
  import.meta.url,
);
const REQUIRES = `require "json"; require "set"; require "stringio"; require "uri"; require "erb"
JSON.generate({ booted: true })`;

async function rubyMemory(): Promise<Uint8Array> {
  try {
    return await Deno.readFile(CACHE);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const module = await WebAssembly.compile(await Deno.readFile(RUBY_WASM));
  // DefaultRubyVM runs _initialize and ruby-init through the canonical-ABI exports.
  const { vm, instance } = await DefaultRubyVM(module, { consolePrint: false });
  vm.eval(REQUIRES);
  const memory = instance.exports.memory as WebAssembly.Memory;
  const bytes = new Uint8Array(memory.buffer).slice();
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeFile(CACHE, bytes);
  return bytes;
}

const memory = await rubyMemory();
const pages = memory.length / WASM_PAGE_SIZE;
let nonZero = 0;
for (let i = 0; i < memory.length; i++) if (memory[i] !== 0) nonZero++;

const CODECS = ["none", "zstd", "lz4"] as const;
type Codec = typeof CODECS[number];

function encode(codec: Codec): Uint8Array {
  return encodeJournal([
    { kind: "memory.size", memoryIndex: 0, pages },
    ...captureMemoryRuns(memory, { codec }),
    { kind: "snapshot", trigger: "bench", timeNs: 0n },
  ]);
}

function runsOf(journal: Uint8Array): MemoryRunRecord[] {
  return readJournal(journal).committed.filter((r): r is MemoryRunRecord =>
    r.kind === "memory.run"
  );
}

const journals = new Map(CODECS.map((c) => [c, encode(c)]));
const runBytes = runsOf(journals.get("none")!).reduce((n, r) => n + r.byteLength, 0);
// The flat image restore would copy from, and the runs' regions to copy.
const image = memoryImage(runsOf(journals.get("none")!), memory.length);
const regions = runsOf(journals.get("none")!).map((r) => [r.offset, r.byteLength] as const);

function freshMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: pages });
}
const touched = freshMemory();
new Uint8Array(touched.buffer).fill(1);

function copyInto(target: WebAssembly.Memory): void {
  const dst = new Uint8Array(target.buffer);
  for (const [o, n] of regions) dst.set(image.subarray(o, o + n), o);
}

function decodeInto(journal: Uint8Array, target: WebAssembly.Memory): void {
  applyMemoryRuns(runsOf(journal), target);
}

function median(fn: () => void, n = 7): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)];
}

// Side-by-side summary, printed once (deno bench below gives the detailed statistics).
const mb = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1e3)).toFixed(0);
const copyFresh = median(() => copyInto(freshMemory()));
const copyTouched = median(() => copyInto(touched));
const lines = [
  `ruby.wasm memory after boot: ${memory.length} bytes (${pages} pages), ${nonZero} non-zero bytes, ${runBytes} bytes in non-zero 4 KiB pages`,
  `copy of those bytes into a fresh Memory: ${copyFresh.toFixed(1)} ms; into a touched Memory: ${
    copyTouched.toFixed(1)
  } ms`,
  "",
  "| codec | journal bytes | / non-zero bytes | encode MB/s | decode MB/s | decode into fresh Memory | vs copy | decode into touched Memory | vs copy | image once, then copy |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const codec of CODECS) {
  const journal = journals.get(codec)!;
  const enc = median(() => encode(codec), 3);
  const dec = median(() => memoryImage(runsOf(journal), memory.length));
  const fresh = median(() => decodeInto(journal, freshMemory()));
  const warm = median(() => decodeInto(journal, touched));
  lines.push(
    `| ${codec} | ${journal.length} | ${(100 * journal.length / nonZero).toFixed(1)}% | ${
      mb(runBytes, enc)
    } | ${mb(runBytes, dec)} | ${fresh.toFixed(1)} ms | ${(fresh / copyFresh).toFixed(2)}x | ${
      warm.toFixed(1)
    } ms | ${(warm / copyTouched).toFixed(2)}x | ${dec.toFixed(1)} ms + ${
      copyTouched.toFixed(1)
    } ms |`,
  );
}
console.log(lines.join("\n"));

// Detailed, side by side: decoding into a Memory against the copy baseline.
Deno.bench("copy image into a fresh Memory", { group: "restore", baseline: true }, () => {
  copyInto(freshMemory());
});
for (const codec of CODECS) {
  const journal = journals.get(codec)!;
  Deno.bench(`decode ${codec} journal into a fresh Memory`, { group: "restore" }, () => {
    decodeInto(journal, freshMemory());
  });
  Deno.bench(`encode ${codec} journal`, { group: "encode" }, () => {
    encode(codec);
  });
}
