/**
 * Deploying a Rack app (runner `rack`, ruby.wasm): the Ruby runner boots Ruby, sends the warm-up
 * requests and captures its journal (`snapshotRackApp`); deploy then restores an instance from that
 * journal and sends the warm-up requests again to check every `expect` against the restored app.
 * The bundle carries the prepared ruby.wasm (`ruby.prepared.wasm`, top level) and its wasmer.toml
 * names that file, so the bundle is self-contained: it can be uploaded to a host anywhere.
 *
 * The restored instance that checks the `expect`s is the profiling variant of the module: the
 * functions it runs are written into the shipped module as compilation hints, so a host compiles
 * them before its first request. The bundle also carries the restore-only variant
 * (`ruby.restore.wasm`, no data segments), which a host compiles instead of the full module when
 * the journal applies.
 * @module
 */

import { dirname, relative, resolve } from "node:path";
import type { ResolvedApp } from "../../config/mod.ts";
import { readJournal } from "../../journal/mod.ts";
import {
  APP_MOUNT,
  decodeRubyJournal,
  loadRubyProgram,
  prepareRubyModule,
  profileRestoredApp,
  readRackApp,
  restoreOnlyModule,
  RUBY_BUNDLE_MODULE,
  RUBY_RESTORE_MODULE,
  snapshotRackApp,
  withCompilationHints,
} from "../../runtime/runners/rack.ts";
import { checkExpect, sha256Hex, warmupRequest } from "../../runtime/snapshot/mod.ts";
import type { DeployEvent } from "./deploy.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What the Rack snapshot step produced (see deploy.ts `Snapshot`). */
export interface RackSnapshotResult {
  /** Path of the prepared module in the bundle ({@linkcode RUBY_BUNDLE_MODULE}). */
  readonly moduleFile: string;
  /** The prepared ruby.wasm with its compilation hints, which the bundle ships. */
  readonly moduleBytes: Uint8Array;
  /** More files the bundle ships: the restore-only variant, by path in the bundle. */
  readonly extraFiles: Map<string, Uint8Array>;
  /** How many functions the compilation hints list. */
  readonly hintedFunctions: number;
  readonly preparedSha256: string;
  readonly preparedSize: number;
  readonly inputSha256: string;
  readonly inputSize: number;
  readonly moduleIdentity: string;
  readonly configHash: string;
  readonly journalBytes: Uint8Array;
  readonly records: number;
  readonly timings: Record<string, number>;
  readonly warmup: { method: string; path: string; status: number; ms: number }[];
  /** Files of the app directory the bundle holds rewritten (its wasmer.toml). */
  readonly rewrites: Map<string, Uint8Array>;
}

/** Thrown for a Rack app that cannot be deployed; deploy.ts turns it into a DeployError. */
export class RackDeployError extends Error {
  /** Creates the error; the message names the app and the fix. */
  constructor(message: string) {
    super(message);
    this.name = "RackDeployError";
  }
}

/**
 * Snapshots a Rack app with the Ruby runner and checks the warm-ups against a restored instance.
 *
 * @throws {RackDeployError} when the app has no /app mount, a warm-up fails, or the wasmer.toml
 *   cannot be rewritten.
 */
export async function snapshotRackBundle(
  app: ResolvedApp,
  emit: (e: DeployEvent) => void,
): Promise<RackSnapshotResult> {
  const mount = app.mounts.find((m) => m.guest === APP_MOUNT);
  if (mount === undefined) {
    throw new RackDeployError(
      `${app.name}: a rack app needs its package mounted at ${APP_MOUNT}; add [fs] ` +
        `"${APP_MOUNT}" = "." to its wasmer.toml`,
    );
  }
  const appDir = resolve(app.appDir);
  if (relative(appDir, resolve(mount.host)).startsWith("..")) {
    throw new RackDeployError(
      `${app.name}: the package (${mount.host}) lies outside the app directory; a bundle ` +
        "carries the app directory only, so move the package inside it",
    );
  }
  const rewrites = await bundleWasmerToml(app);
  const timings: Record<string, number> = {};
  const input = await Deno.readFile(app.wasmPath);
  emit({ type: "step", message: "preparing ruby.wasm" });
  const t0 = performance.now();
  const prepared = await prepareRubyModule(input);
  const program = await loadRubyProgram(prepared);
  timings.prepare = performance.now() - t0;
  emit({
    type: "prepared",
    inputSize: input.length,
    outputSize: prepared.length,
    asyncify: "already",
    cached: false,
    ms: timings.prepare,
  });
  const read = await readRackApp(mount.host, { env: { ...app.env } });
  // The journal belongs to the bundle's package, which holds the rewritten wasmer.toml.
  const files = new Map(read.files);
  for (const [path, bytes] of rewrites) {
    const inPackage = relative(resolve(mount.host), resolve(appDir, path));
    if (files.has(inPackage)) files.set(inPackage, bytes);
  }
  const rackApp = { ...read, files };
  emit({ type: "step", message: "booting Ruby and sending the warm-up requests" });
  const requests = app.instaboot?.requests ?? [];
  const snap = await snapshotRackApp(
    program,
    rackApp,
    requests.map((r) => ({
      path: r.path,
      method: r.method,
      headers: Object.fromEntries(r.headers),
      body: r.body,
    })),
  );
  timings.boot = snap.phases.boot;
  timings.capture = snap.phases.capture;
  emit({ type: "booted", ms: snap.phases.boot });

  // Check every expect against an instance restored from the journal just captured.
  const t1 = performance.now();
  const image = decodeRubyJournal(snap.journal);
  const profiled = await profileRestoredApp(prepared, rackApp, image);
  const runner = profiled.runner;
  const warmup: RackSnapshotResult["warmup"] = [];
  for (const [index, spec] of requests.entries()) {
    const t = performance.now();
    const res = await runner.handle(warmupRequest(spec));
    const body = await res.text();
    const problem = checkExpect(spec, res.status, body);
    const ms = performance.now() - t;
    emit({
      type: "request",
      index,
      total: requests.length,
      method: spec.method,
      path: spec.path,
      status: res.status,
      ok: problem === undefined,
      problem,
      ms,
    });
    if (problem !== undefined) {
      throw new RackDeployError(
        `${app.name}: warm-up request ${index + 1} (${spec.method} ${spec.path}) failed on the ` +
          `restored app: ${problem}; fix the app or its capabilities.instaboot.requests[].expect`,
      );
    }
    warmup.push({ method: spec.method, path: spec.path, status: res.status, ms });
  }
  timings.warmup = snap.phases.warmup + (performance.now() - t1);
  // With no warm-up requests nothing ran; the hints then list nothing, which is harmless.
  const ran = profiled.functions();
  const hinted = withCompilationHints(prepared, ran);
  emit({
    type: "step",
    message: `compilation hints: ${ran.length} functions the restored app ran ` +
      `(compiled ahead of the first request); restore-only module ${RUBY_RESTORE_MODULE}`,
  });

  const { committed } = readJournal(snap.journal);
  const identity = committed.find((r) => r.kind === "identity");
  if (identity === undefined || identity.kind !== "identity") {
    throw new RackDeployError(`${app.name}: the Ruby runner's journal has no identity record`);
  }
  emit({
    type: "snapshot",
    syscall: "idle reactor, empty stack",
    reason: "bootstrap",
    records: committed.length,
    bytes: snap.journal.length,
    ms: snap.phases.capture,
  });

  return {
    moduleFile: RUBY_BUNDLE_MODULE,
    moduleBytes: hinted,
    extraFiles: new Map([[RUBY_RESTORE_MODULE, restoreOnlyModule(hinted)]]),
    hintedFunctions: ran.length,
    preparedSha256: await sha256Hex(hinted),
    preparedSize: hinted.length,
    inputSha256: await sha256Hex(input),
    inputSize: input.length,
    moduleIdentity: hex(identity.moduleHash),
    configHash: hex(identity.configHash),
    journalBytes: snap.journal,
    records: committed.length,
    timings,
    warmup,
    rewrites,
  };
}

/**
 * The bundle's wasmer.toml: the app's, with the ruby module's `source` pointing at the prepared
 * module the bundle carries ({@linkcode RUBY_BUNDLE_MODULE}). A targeted edit of that one value,
 * so comments and layout stay as written. Keyed by path in the app directory.
 *
 * @throws {RackDeployError} when the app has no wasmer.toml or its module source cannot be found.
 */
async function bundleWasmerToml(app: ResolvedApp): Promise<Map<string, Uint8Array>> {
  const toml = app.sources.wasmerToml;
  if (toml === undefined) {
    throw new RackDeployError(
      `${app.name}: a rack app's package must be a directory with a wasmer.toml; point app.yaml ` +
        "`package` at it",
    );
  }
  const appDir = resolve(app.appDir);
  const tomlRel = relative(appDir, resolve(toml));
  if (tomlRel.startsWith("..")) {
    throw new RackDeployError(
      `${app.name}: wasmer.toml (${toml}) lies outside the app directory; move it inside`,
    );
  }
  const text = await Deno.readTextFile(toml);
  const target = resolve(app.wasmPath);
  const newSource = relative(dirname(resolve(toml)), resolve(appDir, RUBY_BUNDLE_MODULE));
  let hits = 0;
  const rewritten = text.replace(
    /^(\s*source\s*=\s*)(["'])([^"'\n]*)\2/gm,
    (line, head: string, quote: string, source: string) => {
      if (resolve(dirname(resolve(toml)), source) !== target) return line;
      hits++;
      return `${head}${quote}${newSource}${quote}`;
    },
  );
  if (hits === 0) {
    throw new RackDeployError(
      `${app.name}: cannot find the [[module]] source naming ${app.wasmPath} in ${toml}; write it ` +
        'as source = "path/to/ruby.wasm" on one line',
    );
  }
  return new Map([[tomlRel, new TextEncoder().encode(rewritten)]]);
}
