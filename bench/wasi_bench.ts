/**
 * WASI host benchmark: the same guest workloads (tests/guests/bench_wasi.c) on Thaw and, side by
 * side in the same run, on Deno's built-in node:wasi and on @bjorn3/browser_wasi_shim.
 *
 *   deno task bench:wasi            the side-by-side table (ns per operation, Thaw's ratios)
 *   deno bench -A bench/wasi_bench.ts   the same workloads, smaller, as `deno bench` cases
 *
 * Thaw runs twice where the file system matters: over a host directory (`--dir`, like node:wasi)
 * and over its in-memory MemFs (like the shim, which has no host file system). Each guest times its
 * own loop with the monotonic clock, so instantiation and file setup are not counted.
 *
 * @module
 */

import { WASI as NodeWasi } from "node:wasi";
import {
  ConsoleStdout,
  Directory,
  File,
  OpenFile,
  PreopenDirectory,
  WASI as ShimWasi,
} from "@bjorn3/browser_wasi_shim";
import { runModule } from "../runtime/instantiate/mod.ts";
import { MemFs } from "../runtime/vfs/mod.ts";

const GUEST = new URL("../tests/guests/wasm/bench_wasi.wasm", import.meta.url);

/** Sizes of the workloads. */
export interface Sizes {
  writes: number;
  fileBytes: number;
  opens: number;
  clocks: number;
  dirEntries: number;
  readdirPasses: number;
}

const FULL: Sizes = {
  writes: 200_000,
  fileBytes: 64 << 20,
  opens: 20_000,
  clocks: 1_000_000,
  dirEntries: 10_000,
  readdirPasses: 1,
};

const SMALL: Sizes = {
  writes: 20_000,
  fileBytes: 8 << 20,
  opens: 2_000,
  clocks: 100_000,
  dirEntries: 2_000,
  readdirPasses: 1,
};

interface Workload {
  name: string;
  label: string;
  args: (s: Sizes) => string[];
}

const WORKLOADS: Workload[] = [
  { name: "write", label: "fd_write 32 B to a file", args: (s) => ["write", String(s.writes)] },
  { name: "read", label: "fd_read 4 KiB of a file", args: () => ["read"] },
  { name: "open", label: "path_open + fd_close", args: (s) => ["open", String(s.opens)] },
  { name: "clock", label: "clock_time_get", args: (s) => ["clock", String(s.clocks)] },
  {
    name: "readdir",
    label: "fd_readdir, per entry",
    args: (s) => ["readdir", String(s.readdirPasses)],
  },
];

/** Files every runtime sees under /sandbox. */
class Fixture {
  readonly dir: string;
  readonly big: Uint8Array;
  readonly names: string[];

  constructor(sizes: Sizes) {
    this.dir = Deno.makeTempDirSync({ prefix: "thaw-wasi-bench-" });
    this.big = new Uint8Array(sizes.fileBytes);
    for (let i = 0; i < this.big.length; i += 4096) this.big[i] = i & 0xff;
    this.names = Array.from({ length: sizes.dirEntries }, (_, i) => `entry-${i}.txt`);
    Deno.writeFileSync(`${this.dir}/big.bin`, this.big);
    Deno.writeTextFileSync(`${this.dir}/small.txt`, "small\n");
    Deno.mkdirSync(`${this.dir}/many`);
    for (const n of this.names) Deno.writeFileSync(`${this.dir}/many/${n}`, new Uint8Array());
  }

  memFs(): MemFs {
    const fs = new MemFs();
    fs.writeFile("/sandbox/big.bin", this.big);
    fs.writeFile("/sandbox/small.txt", "small\n");
    for (const n of this.names) fs.writeFile(`/sandbox/many/${n}`, new Uint8Array());
    return fs;
  }

  shimDir(): PreopenDirectory {
    const many = new Map(this.names.map((n) => [n, new File(new Uint8Array())]));
    return new PreopenDirectory(
      "/sandbox",
      new Map<string, File | Directory>([
        ["big.bin", new File(this.big)],
        ["small.txt", new File(new TextEncoder().encode("small\n"))],
        ["many", new Directory(many)],
      ]),
    );
  }

  remove(): void {
    Deno.removeSync(this.dir, { recursive: true });
  }
}

/** One timed loop: operations and nanoseconds, as the guest reported them. */
interface Sample {
  ops: number;
  ns: number;
}

function parseReport(report: string, runtime: string): Sample {
  const m = /^(\w+) (\d+) (\d+)$/m.exec(report);
  if (m === null) throw new Error(`${runtime}: the guest did not report: ${report.trim()}`);
  return { ops: Number(m[2]), ns: Number(m[3]) };
}

type Runner = (module: WebAssembly.Module, args: string[], fx: Fixture) => Promise<Sample>;

const decoder = new TextDecoder();
const ignore = () => {};

const thawHost: Runner = async (module, args, fx) => {
  let err = "";
  const code = await runModule(module, {
    args: ["bench_wasi.wasm", ...args],
    dirs: [{ host: fx.dir, guest: "/sandbox" }],
    stdout: ignore,
    stderr: (c) => err += decoder.decode(c),
  });
  if (code !== 0) throw new Error(`thaw exited ${code}: ${err}`);
  return parseReport(Deno.readTextFileSync(`${fx.dir}/report.txt`), "thaw");
};

const thawMem: Runner = async (module, args, fx) => {
  let err = "";
  const fs = fx.memFs();
  const code = await runModule(module, {
    args: ["bench_wasi.wasm", ...args],
    fs,
    preopens: [{ guestPath: "/sandbox" }],
    stdout: ignore,
    stderr: (c) => err += decoder.decode(c),
  });
  if (code !== 0) throw new Error(`thaw (MemFs) exited ${code}: ${err}`);
  return parseReport(decoder.decode(fs.readFile("/sandbox/report.txt")), "thaw-mem");
};

const nodeWasi: Runner = async (module, args, fx) => {
  // Deno's node:wasi writes the guest's stdio to the process's own; the guest uses none.
  const wasi = new NodeWasi({
    version: "preview1",
    args: ["bench_wasi.wasm", ...args],
    env: {},
    preopens: { "/sandbox": fx.dir },
    returnOnExit: true,
  });
  const instance = await WebAssembly.instantiate(
    module,
    wasi.getImportObject() as WebAssembly.Imports,
  );
  const code = wasi.start(instance);
  if (code !== 0) throw new Error(`node:wasi exited ${code}`);
  return parseReport(Deno.readTextFileSync(`${fx.dir}/report.txt`), "node:wasi");
};

const shim: Runner = async (module, args, fx) => {
  let err = "";
  const dir = fx.shimDir();
  const fds = [
    new OpenFile(new File([])),
    new ConsoleStdout(ignore),
    new ConsoleStdout((c) => err += decoder.decode(c)),
    dir,
  ];
  const wasi = new ShimWasi(["bench_wasi.wasm", ...args], [], fds, { debug: false });
  const instance = await WebAssembly.instantiate(module, {
    wasi_snapshot_preview1: wasi.wasiImport,
  });
  // deno-lint-ignore no-explicit-any
  const code = wasi.start(instance as any);
  if (code !== 0) throw new Error(`browser_wasi_shim exited ${code}: ${err}`);
  const report = dir.dir.contents.get("report.txt");
  if (!(report instanceof File)) throw new Error(`browser_wasi_shim: no report: ${err}`);
  return parseReport(decoder.decode(report.data), "shim");
};

const RUNTIMES: Record<string, Runner> = {
  "thaw (host dir)": thawHost,
  "thaw (MemFs)": thawMem,
  "node:wasi": nodeWasi,
  "browser_wasi_shim": shim,
};

/** Runs every workload on every runtime `rounds` times and keeps the fastest round. */
async function measure(sizes: Sizes, rounds: number) {
  const module = await WebAssembly.compile(await Deno.readFile(GUEST));
  const fx = new Fixture(sizes);
  const results: Record<string, Record<string, number>> = {};
  try {
    for (const w of WORKLOADS) {
      results[w.name] = {};
      for (const [name, run] of Object.entries(RUNTIMES)) {
        if (w.name === "clock") {
          // No file system involved: one Thaw configuration is enough.
          if (name === "thaw (MemFs)") continue;
        }
        let best = Infinity;
        // browser_wasi_shim is quadratic in these two (it copies the whole file on every write
        // that grows it, and every entry per listed entry): one round is plenty.
        const slow = (w.name === "readdir" || w.name === "write") && name === "browser_wasi_shim";
        const n = slow ? 1 : rounds;
        for (let r = 0; r < n; r++) {
          const s = await run(module, w.args(sizes), fx);
          best = Math.min(best, s.ns / s.ops);
        }
        results[w.name][name] = best;
        console.error(`# ${w.name} on ${name}: ${fmtNs(best)} per operation`);
      }
    }
  } finally {
    fx.remove();
  }
  return results;
}

function fmtNs(ns: number): string {
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`;
}

function fmtRatio(r: number): string {
  return `${r < 0.1 ? r.toPrecision(2) : r.toFixed(2)}x`;
}

function table(results: Record<string, Record<string, number>>): string {
  const lines = [
    "| workload | thaw (host dir) | thaw (MemFs) | node:wasi | browser_wasi_shim | thaw / node:wasi | thaw / shim |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const w of WORKLOADS) {
    const r = results[w.name];
    const thaw = r["thaw (host dir)"];
    const thawMemNs = r["thaw (MemFs)"] ?? thaw;
    const cell = (v: number | undefined) => v === undefined ? "(same)" : fmtNs(v);
    lines.push(
      `| ${w.label} | ${fmtNs(thaw)} | ${cell(r["thaw (MemFs)"])} | ${fmtNs(r["node:wasi"])} | ` +
        `${fmtNs(r["browser_wasi_shim"])} | ${fmtRatio(thaw / r["node:wasi"])} | ` +
        `${fmtRatio(thawMemNs / r["browser_wasi_shim"])} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const sizes = quick ? SMALL : FULL;
  const rounds = quick ? 1 : 3;
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/)?.[1] ?? "?";
  console.log(`# WASI host benchmark (${quick ? "quick" : "full"}; best of ${rounds})`);
  console.log(
    `# deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ${cpu}, ` +
      `file: ${sizes.fileBytes >> 20} MB, ${sizes.dirEntries} directory entries`,
  );
  console.log(table(await measure(sizes, rounds)));
  console.log("Ratios: time per operation; below 1.00x Thaw is faster. thaw / shim uses MemFs.");
} else {
  // `deno bench`: one case per workload and runtime, on the small sizes.
  const module = await WebAssembly.compile(await Deno.readFile(GUEST));
  const fx = new Fixture(SMALL);
  for (const w of WORKLOADS) {
    for (const [name, run] of Object.entries(RUNTIMES)) {
      Deno.bench({
        name: `${w.name} on ${name}`,
        group: w.name,
        baseline: name === "node:wasi",
        n: 5,
        warmup: 1,
        async fn() {
          await run(module, w.args(SMALL), fx);
        },
      });
    }
  }
  globalThis.addEventListener("unload", () => fx.remove());
}
