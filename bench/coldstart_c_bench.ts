/**
 * Cold start of the C WASIX example (examples/wasix-http-server): boot vs restore, interleaved in
 * one run. Each sample is a fresh instance, from nothing to the body of its first response
 * (`GET /counter`), in this process (no Worker: the Worker spawn is the host's cost, the same for
 * both modes).
 *
 * - `boot (original)`: the module as the package ships it, booted from `_start`;
 * - `boot (prepared)`: the prepared (asyncified) module, booted from `_start`;
 * - `restore`: the prepared module restored from the deploy journal (verify, instantiate, memory,
 *   globals and OS state, rewind), then the request: what an instance Worker does;
 * - `restore (decoded once)`: the journal verified and decoded once per process, each instance
 *   then only instantiates, copies the image and rewinds: what an in-process host (WCGI) does.
 *
 * Then the same boot vs restore for tests/guests/snap_server.c with `BOOT_TABLE_MB` set: a C
 * server whose boot computes a table (`--table-mb`, default 16), standing in for an app whose boot
 * does real work, to show where restoring starts to win.
 *
 * ```sh
 * deno task bench:coldstart-c                       # N=200 per mode, prints a table and JSON
 * deno bench -A bench/coldstart_c_bench.ts          # the same three cases under deno bench
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { loadApp } from "../config/mod.ts";
import { deploy } from "../cli/deploy/mod.ts";
import type { InstanceSpec } from "../runtime/instance/mod.ts";
import {
  bootOrRestore,
  guestConfigOf,
  moduleIdentity,
  readPrepareInfo,
  restoreInstance,
  type RestoreSource,
} from "../runtime/snapshot/mod.ts";
import { acceptJournal, configHash } from "../journal/mod.ts";
import { createProxyRunner, vnetConnection } from "../runtime/runners/mod.ts";
import { buildGuest } from "../tests/runtime/snapshot/_guests.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const EXAMPLE = `${ROOT}examples/wasix-http-server`;

interface Setup {
  original: WebAssembly.Module;
  prepared: WebAssembly.Module;
  journal: Uint8Array;
  spec: InstanceSpec;
  /** The journal verified and decoded once, as an in-process host (WCGI) reuses it. */
  source: RestoreSource;
  cleanup: () => Promise<void>;
}

async function setup(example = EXAMPLE, dir?: string): Promise<Setup> {
  dir ??= await Deno.makeTempDir();
  const app = await loadApp(example);
  await deploy(app, { out: `${dir}/bundle`, cacheDir: `${ROOT}.thaw-cache` });
  const bundled = await loadApp(`${dir}/bundle`);
  const prepared = await WebAssembly.compile(await Deno.readFile(bundled.wasmPath));
  const journal = await Deno.readFile(`${dir}/bundle/snapshot.journal`);
  const spec: InstanceSpec = {
    name: app.name,
    runner: "proxy",
    env: { ...app.env },
    args: [...app.args],
    wasmPath: app.wasmPath,
    mounts: app.mounts.map((m) => ({ guest: m.guest, host: m.host })),
  };
  const verdict = acceptJournal(journal, {
    moduleHash: (await moduleIdentity(prepared))!,
    configHash: await configHash({ ...spec, mounts: spec.mounts ?? [] }),
  });
  if (!verdict.ok) throw new Error(verdict.message);
  return {
    original: await WebAssembly.compile(await Deno.readFile(app.wasmPath)),
    prepared,
    journal,
    spec,
    source: {
      module: prepared,
      restoreModule: null,
      info: readPrepareInfo(prepared)!,
      records: verdict.records,
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** An app around snap_server whose boot computes a `mb` MiB table. */
async function tableSetup(mb: number): Promise<Setup> {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/app`);
  await Deno.writeFile(`${dir}/app/server.wasm`, await buildGuest("snap_server"));
  await Deno.writeTextFile(
    `${dir}/app/app.yaml`,
    `kind: wasmer.io/App.v0
name: table-server
package: server.wasm
env:
  PORT: "8080"
  BOOT_TABLE_MB: "${mb}"
capabilities:
  instaboot:
    requests:
      - path: /state
`,
  );
  return await setup(`${dir}/app`, dir);
}

type Mode = "boot (original)" | "boot (prepared)" | "restore" | "restore (decoded once)";
const PATH = { example: "/counter", table: "/state" };
const MODES: Mode[] = ["boot (original)", "boot (prepared)", "restore", "restore (decoded once)"];

interface Sample {
  total: number;
  phases: Record<string, number>;
}

function check(path: string, mode: string, restored: boolean, body: string): void {
  if (path === PATH.example) {
    if (body.trim() !== (restored ? "2" : "1")) throw new Error(`${mode}: /counter said ${body}`);
  } else if (!/table=\d+/.test(body) || /table=0\b/.test(body)) {
    throw new Error(`${mode}: /state said ${body}`);
  }
}

async function onceDecoded(s: Setup, path: string): Promise<Sample> {
  const t0 = performance.now();
  const r = restoreInstance(s.source, guestConfigOf(s.spec), { stdout: "null", stderr: "null" });
  await r.resumed;
  const port = r.guest.net.listeners()[0].address.port;
  const runner = createProxyRunner({
    connect: () => Promise.resolve(vnetConnection(r.guest.net.connect(port))),
  });
  const t1 = performance.now();
  const res = await runner.handle(new Request(`http://app.localhost${path}`));
  const body = await res.text();
  const t2 = performance.now();
  check(path, "restore (decoded once)", true, body);
  return {
    total: t2 - t0,
    phases: { ...r.phases, "restore (all)": t1 - t0, "first request": t2 - t1 },
  };
}

async function once(s: Setup, mode: Mode, path = PATH.example): Promise<Sample> {
  if (mode === "restore (decoded once)") return await onceDecoded(s, path);
  const t0 = performance.now();
  const d = await bootOrRestore(mode === "boot (original)" ? s.original : s.prepared, s.spec, {
    journal: mode === "restore" ? s.journal : undefined,
    stdout: "null",
    stderr: "null",
  });
  const t1 = performance.now();
  if ((mode === "restore") !== (d.mode === "restore")) {
    throw new Error(`${mode}: got ${d.mode} (${d.rejected?.message})`);
  }
  const res = await d.runner.handle(new Request(`http://app.localhost${path}`));
  const body = await res.text();
  const t2 = performance.now();
  check(path, mode, mode === "restore", body);
  const phases: Record<string, number> = mode === "restore"
    ? { ...d.phases, "restore (all)": t1 - t0 }
    : { "instantiate+boot to listen": t1 - t0 };
  phases["first request"] = t2 - t1;
  return { total: t2 - t0, phases };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
}

/** Runs every mode interleaved on one app; prints a table and per-phase times. */
async function measure(
  title: string,
  s: Setup,
  path: string,
  n: number,
  warmup: number,
): Promise<Record<string, unknown>> {
  for (let i = 0; i < warmup; i++) for (const m of MODES) await once(s, m, path);
  const samples = new Map<Mode, Sample[]>(MODES.map((m) => [m, []]));
  for (let i = 0; i < n; i++) {
    // Rotate the order so no mode always runs right after another.
    for (let k = 0; k < MODES.length; k++) {
      const m = MODES[(i + k) % MODES.length];
      samples.get(m)!.push(await once(s, m, path));
    }
  }
  const f = (x: number) => x.toFixed(2);
  const base = pct(samples.get("boot (original)")!.map((x) => x.total), 50);
  console.log(`\n${title}: N=${n} per mode, interleaved; times in ms\n`);
  console.log("| mode | p50 | p99 | mean | p50 speed-up vs boot (original) |");
  console.log("| ---- | --- | --- | ---- | ------------------------------- |");
  const json: Record<string, unknown> = { n };
  for (const m of MODES) {
    const t = samples.get(m)!.map((x) => x.total);
    const mean = t.reduce((a, b) => a + b, 0) / t.length;
    console.log(
      `| ${m} | ${f(pct(t, 50))} | ${f(pct(t, 99))} | ${f(mean)} | ${
        (base / pct(t, 50)).toFixed(2)
      }x |`,
    );
    const phases: Record<string, { p50: number; p99: number }> = {};
    for (const k of Object.keys(samples.get(m)![0].phases)) {
      const xs = samples.get(m)!.map((x) => x.phases[k] ?? 0);
      phases[k] = { p50: pct(xs, 50), p99: pct(xs, 99) };
    }
    json[m] = { p50: pct(t, 50), p99: pct(t, 99), mean, phases };
  }
  console.log("\nPer phase (p50 / p99 ms):");
  for (const m of MODES) {
    const phases = (json[m] as { phases: Record<string, { p50: number; p99: number }> }).phases;
    console.log(
      `  ${m}: ` + Object.entries(phases).map(([k, v]) => `${k} ${f(v.p50)} / ${f(v.p99)}`)
        .join(", "),
    );
  }
  return json;
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      n: { type: "string", default: "200" },
      warmup: { type: "string", default: "20" },
      "table-mb": { type: "string", default: "16" },
    },
  });
  const n = Number(values.n);
  const warmup = Number(values.warmup);
  const mb = Number(values["table-mb"]);
  const example = await setup();
  const table = await tableSetup(mb);
  try {
    const json = {
      example: await measure("examples/wasix-http-server", example, PATH.example, n, warmup),
      table: await measure(
        `snap_server with a ${mb} MiB boot table`,
        table,
        PATH.table,
        Math.max(10, Math.round(n / 4)),
        Math.min(warmup, 5),
      ),
    };
    console.log("\n" + JSON.stringify(json));
  } finally {
    await example.cleanup();
    await table.cleanup();
  }
}

if (import.meta.main) {
  await main();
} else {
  const s = await setup();
  for (const m of MODES) {
    Deno.bench({ name: m, group: "coldstart-c", baseline: m === "boot (original)" }, async () => {
      await once(s, m);
    });
  }
  globalThis.addEventListener("unload", () => void s.cleanup());
}
