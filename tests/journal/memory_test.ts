import { deepStrictEqual, strictEqual, throws } from "node:assert";
import fc from "fast-check";
import {
  applyMemoryRuns,
  captureMemoryRuns,
  decompressRunInto,
  type MemoryCodec,
  memoryImage,
  MemoryRunError,
} from "../../journal/mod.ts";
import { run } from "./_helpers.ts";

const CODECS = ["none", "zstd", "lz4"] as const;

function sparseMemory(size: number, seed: number): Uint8Array {
  const m = new Uint8Array(size);
  for (let p = 0; p < size / 4096; p++) {
    if ((p * 7 + seed) % 3 !== 0) continue;
    for (let i = 0; i < 4096; i += 1 + ((i + seed) % 13)) m[p * 4096 + i] = (i * seed) & 0xff;
  }
  return m;
}

for (const codec of CODECS) {
  Deno.test(`captureMemoryRuns() and memoryImage() round-trip with ${codec}`, () => {
    const mem = sparseMemory(1 << 20, 5);
    const runs = captureMemoryRuns(mem, { codec });
    deepStrictEqual(memoryImage(runs, mem.length), mem);
    for (const r of runs) strictEqual(r.codec, codec);
  });
}

Deno.test("captureMemoryRuns() stores only non-zero pages", () => {
  const mem = new Uint8Array(16 * 4096);
  mem[4096 + 3] = 1;
  mem[2 * 4096] = 1;
  mem[9 * 4096 + 4095] = 1;
  const runs = captureMemoryRuns(mem);
  deepStrictEqual(runs.map((r) => [r.offset, r.byteLength]), [[4096, 8192], [9 * 4096, 4096]]);
});

Deno.test("captureMemoryRuns() splits runs at maxRunBytes", () => {
  const mem = new Uint8Array(10 * 4096).fill(1);
  const runs = captureMemoryRuns(mem, { maxRunBytes: 4 * 4096 });
  deepStrictEqual(runs.map((r) => r.byteLength), [16384, 16384, 8192]);
});

Deno.test("captureMemoryRuns() with a previous image stores changed pages, zeroed ones as zero", () => {
  const prev = sparseMemory(64 * 4096, 2);
  const next = prev.slice();
  next[5 * 4096 + 1] ^= 0xff; // changed
  next.fill(0, 6 * 4096, 7 * 4096); // changed to all-zero
  const grown = new Uint8Array(next.length + 8192);
  grown.set(next);
  grown[next.length + 10] = 9; // in grown memory
  const runs = captureMemoryRuns(grown, { previous: prev });
  const target = new Uint8Array(grown.length);
  target.set(prev);
  applyMemoryRuns(runs, target);
  deepStrictEqual(target, grown);
  strictEqual(
    runs.some((r) => r.codec === "zero"),
    prev.subarray(6 * 4096, 7 * 4096).some((b) => b !== 0),
  );
  strictEqual(runs.every((r) => r.offset >= 5 * 4096), true);
});

Deno.test("captureMemoryRuns() is deterministic", () => {
  const mem = sparseMemory(1 << 18, 3);
  deepStrictEqual(captureMemoryRuns(mem), captureMemoryRuns(mem));
});

Deno.test("captureMemoryRuns() and applyMemoryRuns() round-trip random memories", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 40_000 }),
      fc.constantFrom<MemoryCodec>(...CODECS),
      fc.integer({ min: 1, max: 8 }),
      (raw, codec, pages) => {
        const mem = new Uint8Array(raw.length * 2);
        for (let i = 0; i < raw.length; i++) if (raw[i] < 32) mem[i * 2] = raw[i];
        const runs = captureMemoryRuns(mem, {
          codec: codec as "none",
          pageSize: 1024,
          maxRunBytes: pages * 1024,
        });
        deepStrictEqual(memoryImage(runs, mem.length), mem);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("applyMemoryRuns() grows a WebAssembly.Memory to fit the runs", () => {
  const mem = new WebAssembly.Memory({ initial: 1 });
  const written = applyMemoryRuns([run(3 * 65536, new Uint8Array(100).fill(4))], mem);
  strictEqual(written, 100);
  strictEqual(mem.buffer.byteLength, 4 * 65536);
  strictEqual(new Uint8Array(mem.buffer)[3 * 65536 + 99], 4);
});

Deno.test("decompressRunInto() rejects runs that do not fit or decode short", () => {
  throws(() => decompressRunInto(run(10, new Uint8Array(10)), new Uint8Array(15)), MemoryRunError);
  for (const codec of CODECS) {
    const r = run(0, new Uint8Array(4096).fill(1), codec);
    const damaged = { ...r, byteLength: 4097 };
    throws(() => decompressRunInto(damaged, new Uint8Array(8192)), MemoryRunError);
  }
  const bad = { ...run(0, new Uint8Array(100).fill(1), "zstd"), data: new Uint8Array([1, 2, 3]) };
  throws(() => decompressRunInto(bad, new Uint8Array(100)), MemoryRunError);
});
