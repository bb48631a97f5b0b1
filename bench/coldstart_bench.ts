/**
 * The headline cold-start benchmark: the Ruby blog (examples/ruby-blog) on ruby.wasm, every
 * request to a fresh instance, in two modes interleaved in one run:
 *
 * - (a) boot: the instance boots Ruby from scratch (init, stdlib, app files, ERB compile);
 * - (b) restore: the instance is restored from the app's journal, with nothing parked.
 *
 * In both modes the prepared module is compiled once per process. Restored instances take their
 * memory from an app-agnostic pool of blank, pre-faulted memories (zeroed again in the background
 * after use); booted ones start from the module's own initial memory.
 * Requests go over real loopback HTTP to a Deno.serve in this process.
 *
 * Also measured: process-cold (a new `deno` process, from spawn to its first response) for
 * each mode, the restore phases, and the parked mode (a memory already holding the image) on its
 * own line. The last line of output is one JSON object.
 *
 * ```sh
 * deno task bench:coldstart            # N=30 per mode
 * deno task bench:coldstart --n 60 --process-runs 5
 * deno task bench:coldstart --diagnose   # also: first vs second request, V8 instantiation
 * deno task bench:coldstart --child-v8-flags=--liftoff-only   # V8 flags for the process-cold children
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
// Not (yet) re-exported by runtime/runners/mod.ts.
import { readWholeFile } from "../runtime/runners/rack.ts";
import { loadApp } from "../config/mod.ts";
import { deploy as deployBundle } from "../cli/deploy/mod.ts";
import { HOST_V8_FLAGS } from "../runtime/host/mod.ts";
import type { ChildPhases } from "./coldstart_child.ts";
import {
  appHash,
  compilationHints,
  createRackRunner,
  decodeRubyJournal,
  encodeRackRequest,
  loadRubyProgram,
  type MemoryImage,
  MemoryPool,
  prepareRubyModule,
  type RackApp,
  readRackApp,
  RUBY_BUNDLE_MODULE,
  RUBY_WASM_PATH,
  RubyInstance,
  type RubyProgram,
  snapshotRackApp,
} from "../runtime/runners/rack.ts";

const BLOG = new URL("../examples/ruby-blog", import.meta.url);
const WARMUP = [
  { path: "/" },
  { path: "/posts/hello-thaw" },
  { path: "/api/posts" },
  { path: "/tags/ruby" },
];
/** The cold requests cycle through these pages. */
const PATHS = ["/", "/posts/how-restore-works", "/api/posts", "/archive", "/api/search?q=ruby"];

type Mode = "boot" | "restore" | "parked";

interface Sample {
  mode: Mode;
  path: string;
  /** Request in to response body complete, measured in the server. */
  e2e: number;
  /** Client-observed round trip over loopback. */
  rtt: number;
  /** Guest execution: time inside guest exports, from instance start to the response. */
  guest: number;
  /** Guest execution plus instantiation. */
  guestWithInstantiate: number;
  memory: number;
  instantiate: number;
  init: number;
  execute: number;
  poolHit: boolean;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}
const median = (v: number[]) => pct(v, 50);
const f = (n: number, d = 2) => Number.isFinite(n) ? n.toFixed(d) : "n/a";
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/** Everything one process holds for the app: compiled once, decoded once. */
interface Host {
  program: RubyProgram;
  app: RackApp;
  image: MemoryImage;
  pool: MemoryPool;
  parked: WebAssembly.Memory[];
}

function quiet(): (line: string) => void {
  return () => {};
}

/** Serves one request on a fresh instance; returns the response and the measured phases. */
async function coldRequest(
  host: Host,
  mode: Mode,
  request: Request,
): Promise<{ response: Response; sample: Omit<Sample, "rtt" | "path"> }> {
  const t0 = performance.now();
  const before = host.pool.stats().hits;
  let instance: RubyInstance;
  if (mode === "boot") {
    // Booting from scratch starts from the module's own initial memory, as a host without
    // snapshots would; it never returns to the pool (its heap grows from that size).
    instance = await RubyInstance.boot(host.program, host.app, { log: quiet() });
  } else if (mode === "restore") {
    const memory = host.pool.take(host.image.pages);
    instance = RubyInstance.restore(host.program, host.app, host.image, { memory, log: quiet() });
  } else {
    const memory = host.parked.pop();
    if (!memory) throw new Error("No parked memory left");
    instance = RubyInstance.restore(host.program, host.app, host.image, {
      memory,
      log: quiet(),
      imageAlreadyInMemory: true,
    });
  }
  const poolHit = mode !== "boot" && (mode === "parked" || host.pool.stats().hits > before);
  // As the instance Worker does: plain data in and out (the runner's handleRaw).
  const runner = createRackRunner(instance);
  const raw = await runner.handleRaw({
    method: request.method,
    url: request.url,
    headers: [...request.headers],
    body: request.body ? new Uint8Array(await request.arrayBuffer()) : null,
  });
  const t1 = performance.now();
  const execute = instance.lastServeMs;
  // The instance is gone after this request: a pooled memory goes back to be zeroed.
  if (mode !== "boot") host.pool.give(instance.memory);
  const p = instance.phases;
  return {
    response: new Response(raw.body as Uint8Array<ArrayBuffer> | null, {
      status: raw.status,
      headers: raw.headers,
    }),
    sample: {
      mode,
      e2e: t1 - t0,
      guest: p.init + execute,
      guestWithInstantiate: p.instantiate + p.init + execute,
      memory: p.memory,
      instantiate: p.instantiate,
      init: p.init,
      execute,
      poolHit,
    },
  };
}

async function deploy(
  program: RubyProgram,
  app: RackApp,
): Promise<{ journal: Uint8Array; ms: number }> {
  const t = performance.now();
  const snap = await snapshotRackApp(program, app, WARMUP, { log: quiet() });
  if (snap.statuses.some((s) => s !== 200)) {
    throw new Error(`Warm-up failed: statuses ${snap.statuses.join(", ")}`);
  }
  return { journal: snap.journal, ms: performance.now() - t };
}

async function measureProcessCold(
  mode: "boot" | "restore",
  dir: string,
  flags: readonly string[],
): Promise<{ total: number; child: ChildPhases }> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, CHILD, mode, dir],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const nextLine = async (): Promise<string> => {
    while (!buf.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`Process-cold ${mode}: the child exited early`);
      buf += value;
    }
    const i = buf.indexOf("\n");
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return line;
  };
  const port = Number((await nextLine()).match(/PORT (\d+)/)?.[1]);
  const res = await fetch(`http://127.0.0.1:${port}/posts/how-restore-works`);
  const text = await res.text();
  const total = performance.now() - t0;
  if (res.status !== 200 || !text.includes("How restore works")) {
    throw new Error(`Process-cold ${mode}: bad response ${res.status}`);
  }
  const phases = JSON.parse(await nextLine()) as ChildPhases;
  child.kill();
  await child.status;
  lines.releaseLock();
  await child.stdout.cancel().catch(() => {});
  return { total, child: phases };
}

/** The `--v8-flags` this process was started with (read from /proc; "none" elsewhere). */
function v8FlagsInEffect(): string {
  try {
    const args = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    return args.filter((a) => a.startsWith("--v8-flags=")).map((a) => a.slice(11)).join(",") ||
      "none";
  } catch {
    return "unknown";
  }
}

/** The process-cold child: a minimal embedder in a script of its own (few imports). */
const CHILD = new URL("./coldstart_child.ts", import.meta.url).pathname;

/** The host's entry point (`deno task serve`). */
const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * Process-cold through the real host, as `deno task serve --apps DIR` starts: from spawning the
 * process to the first complete response of the blog. With the bundle the instance restores from
 * its journal; with the plain app directory the host prepares ruby.wasm and Ruby boots.
 */
async function measureHostCold(
  appsDir: string,
  v8Flags: string,
): Promise<{ total: number; listening: number; timing: string }> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      v8Flags,
      MAIN,
      "--apps",
      appsDir,
      "--port",
      "0",
      "--default-app",
      "ruby-blog",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let port = 0;
  while (port === 0) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`Host process-cold (${appsDir}): the host exited before listening`);
    buf += value;
    port = Number(buf.match(/listening on http:\/\/[^:]+:(\d+)\//)?.[1] ?? 0);
  }
  const listening = performance.now() - t0;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/posts/how-restore-works`);
    const text = await res.text();
    const total = performance.now() - t0;
    if (res.status !== 200 || !text.includes("How restore works")) {
      throw new Error(`Host process-cold (${appsDir}): bad response ${res.status}`);
    }
    return { total, listening, timing: res.headers.get("server-timing") ?? "" };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    lines.releaseLock();
    await child.stdout.cancel().catch(() => {});
  }
}

/**
 * `--diagnose`: where the restore milliseconds go, beyond the main table. First against second
 * request on one restored instance (cold CPU caches), and V8's instantiation with and without
 * the element section (the function table fill).
 */
async function diagnose(host: Host): Promise<void> {
  const spread = (xs: number[]) => `min ${f(pct(xs, 0), 3)} p50 ${f(median(xs), 3)}`;
  for (const path of ["/posts/how-restore-works", "/healthz"]) {
    const req = encodeRackRequest(new Request(`http://localhost${path}`), new Uint8Array());
    const first: number[] = [];
    const second: number[] = [];
    for (let i = 0; i < 40; i++) {
      const memory = host.pool.take(host.image.pages);
      const instance = RubyInstance.restore(host.program, host.app, host.image, {
        memory,
        log: quiet(),
      });
      await instance.serve(req, () => {});
      first.push(instance.lastServeMs);
      await instance.serve(req, () => {});
      second.push(instance.lastServeMs);
      host.pool.give(memory);
      await host.pool.idle();
    }
    console.log(
      `diagnose ${path}: execute on a restored instance, first request ${spread(first)}, ` +
        `second ${spread(second)} ms`,
    );
  }
  const stub = (module: WebAssembly.Module) => {
    const imports: Record<string, Record<string, unknown>> = {};
    for (const i of WebAssembly.Module.imports(module)) {
      imports[i.module] ??= {};
      imports[i.module][i.name] = i.kind === "memory" ? host.pool.take(host.image.pages) : () => 0;
    }
    return imports as WebAssembly.Imports;
  };
  const bytes = await prepareRubyModule(await Deno.readFile(RUBY_WASM_PATH));
  const noElements = await WebAssembly.compile(withoutSection(bytes, 9));
  for (
    const [label, module] of [["as prepared", host.program.module], [
      "no elements",
      noElements,
    ]] as const
  ) {
    const imports = stub(module);
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = performance.now();
      new WebAssembly.Instance(module, imports);
      times.push(performance.now() - t);
    }
    console.log(`diagnose V8 instantiation, ${label}: ${spread(times)} ms`);
  }
}

/** The module without its sections of one id (for measuring, never for running). */
function withoutSection(bytes: Uint8Array, id: number): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let pos = 8;
  while (pos < bytes.length) {
    const start = pos;
    const sid = bytes[pos++];
    let size = 0;
    for (let shift = 0;; shift += 7) {
      const b = bytes[pos++];
      size += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
    }
    pos += size;
    if (sid !== id) parts.push(bytes.subarray(start, pos));
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      n: { type: "string", default: "30" },
      "process-runs": { type: "string", default: "3" },
      parked: { type: "string", default: "2" },
      diagnose: { type: "boolean", default: false },
      "child-v8-flags": { type: "string" },
    },
  });
  const n = Number(values.n);
  const processRuns = Number(values["process-runs"]);
  // Children run with the V8 flags of `deno task serve`, plus any given.
  const v8Flags = `--v8-flags=${
    [...HOST_V8_FLAGS, ...(values["child-v8-flags"] ? [values["child-v8-flags"]] : [])].join(",")
  }`;
  const childFlags = [v8Flags];
  const parkedCount = Number(values.parked);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a positive integer`);

  console.log(`Ruby cold start: examples/ruby-blog, N=${n} cold requests per mode`);
  console.log(
    `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${Deno.build.target}, ` +
      `${navigator.hardwareConcurrency} cores, load average ${loadAverage()}`,
  );
  console.log(
    `V8 flags of this process: ${v8FlagsInEffect()} (deno task bench:coldstart passes those of ` +
      `deno task serve: ${HOST_V8_FLAGS.join(",")})`,
  );

  // Deploy: `deno task deploy examples/ruby-blog`, the bundle every mode below starts from (its
  // hinted full module, its restore-only module, its journal and its package files).
  const tmp = await Deno.makeTempDir({ prefix: "thaw-coldstart-" });
  const dir = `${tmp}/ruby-blog`;
  const t0 = performance.now();
  const { manifest } = await deployBundle(await loadApp(BLOG.pathname), { out: dir });
  console.log(
    `deploy: ${f(performance.now() - t0, 0)} ms (boot, ${manifest.warmup.length} warm-up ` +
      `requests, capture, restored check), journal ${
        (manifest.journal.size / 1e6).toFixed(1)
      } MB, ` +
      `${compilationHints(await Deno.readFile(`${dir}/${RUBY_BUNDLE_MODULE}`)).length} ` +
      `functions hinted`,
  );
  const app = await readRackApp(dir);

  // Host start: compile once, decode the journal once, prefill the blank-memory pool.
  let t = performance.now();
  const program = await loadRubyProgram(await Deno.readFile(`${dir}/${RUBY_BUNDLE_MODULE}`));
  const compileMs = performance.now() - t;
  t = performance.now();
  const journalBytes = await readWholeFile(`${dir}/snapshot.journal`);
  const readMs = performance.now() - t;
  t = performance.now();
  const image = decodeRubyJournal(journalBytes, { configHash: await appHash(app) });
  const decodeMs = performance.now() - t;
  const imageBytes = image.runs.reduce((a, r) => a + r.bytes.length, 0);
  const pool = new MemoryPool({ maxIdle: 3, sliceBytes: 4 << 20 });
  await pool.prefill(Math.max(image.pages, program.layout.memoryMinPages), 3);
  const host: Host = { program, app, image, pool, parked: [] };
  console.log(
    `host start: compile ${f(compileMs, 1)} ms, read journal ${f(readMs, 1)} ms, ` +
      `decode ${f(decodeMs, 1)} ms (${image.runs.length} runs, ${
        (imageBytes / 1e6).toFixed(1)
      } MB ` +
      `non-zero of ${(image.pages * 65536 / 1e6).toFixed(1)} MB)`,
  );

  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const mode = req.headers.get("x-mode") as Mode;
      const { response, sample } = await coldRequest(host, mode, req);
      response.headers.set("x-sample", JSON.stringify(sample));
      return response;
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const samples: Sample[] = [];
  const send = async (mode: Mode, path: string) => {
    const t0 = performance.now();
    const res = await fetch(base + path, { headers: { "x-mode": mode } });
    const body = await res.text();
    const rtt = performance.now() - t0;
    if (res.status !== 200 || body.length < 100) {
      throw new Error(`${mode} ${path}: status ${res.status}`);
    }
    samples.push({ ...JSON.parse(res.headers.get("x-sample")!), rtt, path });
    // Let the pool zero the memory this request used before the next cold request.
    await pool.idle();
  };

  // One throwaway request per mode: loopback connection setup, first lazy compiles.
  await send("boot", "/");
  await send("restore", "/");
  samples.length = 0;
  for (let i = 0; i < n; i++) {
    const path = PATHS[i % PATHS.length];
    const order: Mode[] = i % 2 === 0 ? ["boot", "restore"] : ["restore", "boot"];
    for (const mode of order) await send(mode, path);
  }
  // Parked mode, apart: memories already holding the image (cost: one memory each).
  for (let i = 0; i < parkedCount; i++) {
    const m = pool.take(image.pages);
    const u8 = new Uint8Array(m.buffer);
    for (const r of image.runs) u8.set(r.bytes, r.offset);
    host.parked.push(m);
  }
  const parkedBytes = host.parked.reduce((a, m) => a + m.buffer.byteLength, 0);
  for (let i = 0; i < parkedCount; i++) await send("parked", PATHS[i % PATHS.length]);
  await server.shutdown();

  const pick = (mode: Mode) => samples.filter((s) => s.mode === mode);
  const boot = pick("boot");
  const restore = pick("restore");
  const parked = pick("parked");
  const m = (arr: Sample[], k: keyof Sample) => median(arr.map((s) => s[k] as number));
  const p99 = (arr: Sample[], k: keyof Sample) => pct(arr.map((s) => s[k] as number), 99);

  const wasmRatio = m(boot, "guest") / m(restore, "guest");
  const wasmRatioInst = m(boot, "guestWithInstantiate") / m(restore, "guestWithInstantiate");
  const e2eRatio = m(boot, "e2e") / m(restore, "e2e");
  const e2eRatioP99 = p99(boot, "e2e") / p99(restore, "e2e");

  console.log("");
  console.log(
    "mode      e2e min   e2e p50   e2e p99   rtt p50   guest p50  memory  instantiate  init     execute  pool hits",
  );
  for (const [name, arr] of [["boot", boot], ["restore", restore]] as const) {
    console.log(
      `${name.padEnd(9)} ${f(pct(arr.map((s) => s.e2e), 0)).padStart(8)}  ` +
        `${f(m(arr, "e2e")).padStart(8)}  ${f(p99(arr, "e2e")).padStart(8)}  ` +
        `${f(m(arr, "rtt")).padStart(8)}  ${f(m(arr, "guest")).padStart(9)}  ` +
        `${f(m(arr, "memory")).padStart(6)}  ${f(m(arr, "instantiate")).padStart(11)}  ` +
        `${f(m(arr, "init")).padStart(7)}  ${f(m(arr, "execute")).padStart(7)}  ` +
        `${arr.filter((s) => s.poolHit).length}/${arr.length}`,
    );
  }
  console.log("");
  console.log(
    `wasm-land ratio (guest execution, boot ÷ restore, p50): ${f(wasmRatio, 0)}x ` +
      `(${f(wasmRatioInst, 0)}x counting instantiation as guest time)`,
  );
  console.log(
    `end-to-end ratio (request in to response out): p50 ${f(e2eRatio, 0)}x, p99 ${
      f(e2eRatioP99, 0)
    }x`,
  );
  console.log(
    `restore phases p50 (ms): decode ${f(decodeMs)} (once per process), memory ` +
      `${f(m(restore, "memory"))}, instantiate ${f(m(restore, "instantiate"))}, execute ` +
      `${f(m(restore, "execute"))}, other (runner, HTTP body) ` +
      `${
        f(
          m(restore, "e2e") - m(restore, "memory") - m(restore, "instantiate") -
            m(restore, "execute"),
        )
      }`,
  );

  if (values.diagnose) await diagnose(host);

  const pc = { boot: [] as number[], restore: [] as number[] };
  const pcPhases: Record<"boot" | "restore", ChildPhases[]> = { boot: [], restore: [] };
  for (let i = 0; i < processRuns; i++) {
    for (const mode of ["boot", "restore"] as const) {
      const r = await measureProcessCold(mode, dir, childFlags);
      pc[mode].push(r.total);
      pcPhases[mode].push(r.child);
    }
  }
  const hostCold = { boot: [] as number[], restore: [] as number[] };
  const hostListening = { boot: [] as number[], restore: [] as number[] };
  const hostTiming: string[] = [];
  for (let i = 0; i < processRuns; i++) {
    for (const mode of ["boot", "restore"] as const) {
      const r = await measureHostCold(mode === "restore" ? dir : BLOG.pathname, v8Flags);
      hostCold[mode].push(r.total);
      hostListening[mode].push(r.listening);
      if (mode === "restore") hostTiming.push(r.timing);
    }
  }
  console.log(
    `process-cold through the host (\`deno task serve --apps DIR\`, spawn to the first response, ` +
      `median of ${processRuns}): boot (the plain app) ${f(median(hostCold.boot), 0)} ms, ` +
      `restore (the bundle) ${f(median(hostCold.restore), 0)} ms (min ` +
      `${f(pct(hostCold.restore, 0), 0)} ms; listening at ${
        f(median(hostListening.restore), 0)
      } ms)`,
  );
  console.log(`  host restore Server-Timing of the first run: ${hostTiming[0] ?? "n/a"}`);
  console.log(
    `process-cold, minimal embedder (a bare child process, spawn to its first response, median ` +
      `of ${processRuns}, ${childFlags.join(" ")}): ` +
      `boot ${f(median(pc.boot), 0)} ms, restore ${f(median(pc.restore), 0)} ms ` +
      `(min ${f(pct(pc.restore, 0), 0)} ms)`,
  );
  for (const mode of ["boot", "restore"] as const) {
    const ph = (k: keyof ChildPhases) => f(median(pcPhases[mode].map((p) => p[k])), 1);
    console.log(
      `  ${mode} child (ms since its isolate started, median): modules loaded ${
        ph("modulesLoaded")
      }, read + compile ${ph("compile")} (background threads, overlaps journal read ${
        ph("decode")
      } decode), listening at ${ph("listening")}; first request ${ph("request")} = memory ${
        ph("memory")
      } + instantiate ${ph("instantiate")} + init ${ph("init")} + execute ${
        ph("execute")
      }; responded at ${ph("responded")}`,
    );
  }
  if (parked.length > 0) {
    console.log(
      `parked (extra mode, NOT the cold path: a memory already holding the image; ` +
        `${(parkedBytes / 1e6).toFixed(0)} MB held for ${parked.length}): e2e p50 ` +
        `${f(m(parked, "e2e"))} ms, instantiate ${f(m(parked, "instantiate"))}, execute ` +
        `${f(m(parked, "execute"))}`,
    );
  }
  const st = pool.stats();
  console.log(
    `pool: ${st.hits} hits, ${st.misses} misses, ${st.idle} idle holding ` +
      `${(st.idleBytes / 1e6).toFixed(0)} MB`,
  );
  pool.close();
  await Deno.remove(tmp, { recursive: true });
  console.log(`load average at the end: ${loadAverage()}`);
  console.log(JSON.stringify({
    n,
    wasm_ratio: round(wasmRatio, 1),
    wasm_ratio_with_instantiate: round(wasmRatioInst, 1),
    e2e_ratio: round(e2eRatio, 1),
    e2e_ratio_p99: round(e2eRatioP99, 1),
    boot_p50_ms: round(m(boot, "e2e")),
    boot_p99_ms: round(p99(boot, "e2e")),
    restore_p50_ms: round(m(restore, "e2e")),
    restore_p99_ms: round(p99(restore, "e2e")),
    restore_min_ms: round(pct(restore.map((s) => s.e2e), 0)),
    restore_rtt_p50_ms: round(m(restore, "rtt")),
    process_cold_boot_ms: round(median(hostCold.boot), 1),
    process_cold_restore_ms: round(median(hostCold.restore), 1),
    process_cold_restore_min_ms: round(pct(hostCold.restore, 0), 1),
    process_cold_embedder_boot_ms: round(median(pc.boot), 1),
    process_cold_embedder_restore_ms: round(median(pc.restore), 1),
    restore_phases_p50_ms: {
      decode_once: round(decodeMs),
      memory: round(m(restore, "memory")),
      instantiate: round(m(restore, "instantiate")),
      execute: round(m(restore, "execute")),
    },
    parked_p50_ms: parked.length > 0 ? round(m(parked, "e2e")) : null,
    parked_memory_bytes: parkedBytes,
  }));
}

if (import.meta.main) {
  await main();
} else {
  // Under `deno task bench` (deno bench bench/): a small side-by-side version of the same
  // comparison. The headline figures come from `deno task bench:coldstart`.
  let setup: Promise<Host> | undefined;
  const host = () =>
    setup ??= (async () => {
      const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
      const app = await readRackApp(BLOG);
      const { journal } = await deploy(program, app);
      const image = decodeRubyJournal(journal);
      const pool = new MemoryPool({ maxIdle: 2 });
      await pool.prefill(image.pages, 2);
      return { program, app, image, pool, parked: [] };
    })();
  const once = async (b: Deno.BenchContext, mode: Mode) => {
    const h = await host();
    await h.pool.idle();
    b.start();
    await coldRequest(h, mode, new Request("http://localhost/posts/how-restore-works"));
    b.end();
  };
  Deno.bench(
    "ruby-blog cold request: boot",
    { group: "ruby cold start", baseline: true, n: 5 },
    async (b) => await once(b, "boot"),
  );
  Deno.bench(
    "ruby-blog cold request: restore",
    { group: "ruby cold start", n: 30 },
    async (b) => await once(b, "restore"),
  );
}
