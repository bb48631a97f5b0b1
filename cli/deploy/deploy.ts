/**
 * The deploy pipeline: prepare → boot and warm up → snapshot → compact → write the bundle.
 * @module
 */

import { basename, relative, resolve } from "node:path";
import { ConfigError, formatIssue, loadApp, type ResolvedApp } from "../../config/mod.ts";
import { recordApp } from "../../config/recorded/mod.ts";
import { compactRecords, encodeJournal } from "../../journal/mod.ts";
import {
  BUNDLE_FORMAT,
  type BundleManifest,
  captureApp,
  CaptureError,
  moduleIdentity,
  PrepareError,
  prepareModule,
  sha256Hex,
  THAW_VERSION,
} from "../../runtime/snapshot/mod.ts";
import { configHash, configIdentityOf } from "../../journal/mod.ts";
import { RackDeployError, snapshotRackBundle } from "./rack.ts";

/** Progress of a deploy, for the display. */
export type DeployEvent =
  | {
    type: "validated";
    name: string;
    runner: string;
    requests: number;
    warnings: string[];
  }
  | {
    type: "prepared";
    inputSize: number;
    outputSize: number;
    asyncify: string;
    cached: boolean;
    ms: number;
  }
  | { type: "step"; message: string }
  | { type: "booted"; ms: number }
  | {
    type: "request";
    index: number;
    total: number;
    method: string;
    path: string;
    status: number;
    ok: boolean;
    problem?: string;
    ms: number;
  }
  | {
    type: "snapshot";
    syscall: string;
    reason: string;
    records: number;
    bytes: number;
    ms: number;
  }
  | { type: "warning"; message: string };

/** Options of {@link deploy}. */
export interface DeployOptions {
  /** Bundle directory to write (replaced if it exists). */
  readonly out: string;
  /** Prepare cache directory. @default ".thaw-cache" */
  readonly cacheDir?: string;
  readonly onEvent?: (e: DeployEvent) => void;
}

/** What {@link deploy} produced. */
export interface DeployResult {
  readonly manifest: BundleManifest;
  /** Caveats to show the user (frozen entropy or clock, connections closed, ...). */
  readonly warnings: readonly string[];
}

/** A deploy step failed; the message says which and how to fix it. */
export class DeployError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeployError";
  }
}

async function listFiles(dir: string, skip: (rel: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string) {
    const entries = [];
    for await (const e of Deno.readDir(rel === "" ? dir : `${dir}/${rel}`)) entries.push(e);
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const e of entries) {
      const p = rel === "" ? e.name : `${rel}/${e.name}`;
      if (skip(p)) continue;
      if (e.isDirectory) await walk(p);
      else if (e.isFile) out.push(p);
    }
  }
  await walk("");
  return out;
}

/** What a snapshot step hands to the bundle writer. */
interface Snapshot {
  /** The module to ship (prepared), its path in the bundle and its facts. */
  moduleFile: string;
  /** The prepared module the bundle ships. */
  moduleBytes: Uint8Array;
  module: BundleManifest["module"];
  moduleIdentity: string;
  configHash: string;
  journalBytes: Uint8Array;
  records: number;
  rawRecords: number;
  rawSize: number;
  trigger: string;
  timings: Record<string, number>;
  bootFacts: BundleManifest["bootFacts"];
  warmup: BundleManifest["warmup"];
  /** Files of the app directory to rewrite in the bundle (path to new bytes). */
  rewrites: Map<string, Uint8Array>;
  /** Files the runner adds to the bundle (path to bytes), listed in the manifest. */
  extraFiles?: Map<string, Uint8Array>;
}

/**
 * Deploys a loaded app into a bundle directory.
 *
 * @throws {DeployError} when a step fails (boot, a warm-up `expect`, the snapshot).
 * @example
 * ```ts
 * import { loadApp } from "../../config/mod.ts";
 * const result = await deploy(await loadApp("examples/wasix-http-server"), { out: "out/x" });
 * ```
 */
export async function deploy(app: ResolvedApp, options: DeployOptions): Promise<DeployResult> {
  const emit = options.onEvent ?? (() => {});
  const warnings: string[] = app.warnings.map((w) => w.message);
  const instaboot = app.instaboot;
  emit({
    type: "validated",
    name: app.name,
    runner: app.runner,
    requests: instaboot?.requests.length ?? 0,
    warnings,
  });
  if (instaboot === undefined) {
    throw new DeployError(
      `${app.name}: app.yaml has no capabilities.instaboot; add it to deploy a snapshot ` +
        "(serve the app directory as is with deno task serve otherwise)",
    );
  }
  const snap = app.runner === "rack"
    ? await snapshotRack(app, emit)
    : await snapshotWasi(app, options, emit, warnings);
  return await writeBundle(app, options, snap, warnings);
}

async function snapshotWasi(
  app: ResolvedApp,
  options: DeployOptions,
  emit: (e: DeployEvent) => void,
  warnings: string[],
): Promise<Snapshot> {
  const appDir = resolve(app.appDir);
  const rel = relative(appDir, resolve(app.wasmPath));
  if (rel.startsWith("..") || relative(appDir, resolve(app.packageDir)).startsWith("..")) {
    throw new DeployError(
      `${app.name}: the package (${app.packageDir}) lies outside the app directory; a bundle ` +
        "carries the app directory only, so move the package inside it",
    );
  }
  const timings: Record<string, number> = {};
  const input = await Deno.readFile(app.wasmPath);
  emit({
    type: "step",
    message: "preparing the module (binaryen asyncify; cached by content hash)",
  });
  let prepared;
  try {
    prepared = await prepareModule(input, { cacheDir: options.cacheDir ?? ".thaw-cache" });
  } catch (e) {
    if (e instanceof PrepareError) throw new DeployError(`${app.wasmPath}: ${e.message}`);
    throw e;
  }
  timings.prepare = prepared.ms;
  emit({
    type: "prepared",
    inputSize: prepared.info.inputSize,
    outputSize: prepared.outputSize,
    asyncify: prepared.info.asyncify,
    cached: prepared.cached,
    ms: prepared.ms,
  });
  const cfgHash = await configHash(configIdentityOf(app));
  emit({ type: "step", message: "booting with the snapshot hook" });
  let captured;
  try {
    captured = await captureApp(
      { ...app, argv0: basename(app.wasmPath), hostnames: [app.name] },
      prepared,
      {
        configHash: cfgHash,
        onBooted: (ms) => emit({ type: "booted", ms }),
        onRequest: (r) => emit({ type: "request", ...r }),
      },
    );
  } catch (e) {
    if (e instanceof CaptureError) throw new DeployError(`${app.name}: ${e.message}`);
    throw e;
  }
  Object.assign(timings, captured.timings);
  const rawBytes = encodeJournal(captured.records);
  const t0 = performance.now();
  const compacted = compactRecords(captured.records);
  const journalBytes = encodeJournal(compacted);
  timings.compact = performance.now() - t0;
  emit({
    type: "snapshot",
    syscall: captured.point.syscall,
    reason: captured.point.reason,
    records: compacted.length,
    bytes: journalBytes.length,
    ms: timings.capture ?? 0,
  });
  warnings.push(...captured.warnings);
  for (const w of captured.warnings) emit({ type: "warning", message: w });
  return {
    moduleFile: rel,
    moduleBytes: prepared.bytes,
    module: {
      file: rel,
      sha256: prepared.hash,
      size: prepared.outputSize,
      inputSha256: prepared.info.inputHash,
      inputSize: prepared.info.inputSize,
      asyncify: prepared.info.asyncify,
    },
    moduleIdentity: (await moduleIdentity(prepared.bytes))!,
    configHash: cfgHash,
    journalBytes,
    records: compacted.length,
    rawRecords: captured.records.length,
    rawSize: rawBytes.length,
    trigger: `${captured.trigger} at ${captured.point.syscall} (${captured.point.reason})`,
    timings,
    bootFacts: captured.bootFacts,
    warmup: captured.warmup.map(({ method, path, status, ms }) => ({ method, path, status, ms })),
    rewrites: new Map(),
  };
}

async function snapshotRack(
  app: ResolvedApp,
  emit: (e: DeployEvent) => void,
): Promise<Snapshot> {
  let r;
  try {
    r = await snapshotRackBundle(app, emit);
  } catch (e) {
    if (e instanceof RackDeployError) throw new DeployError(e.message);
    throw e;
  }
  return {
    moduleFile: r.moduleFile,
    moduleBytes: r.moduleBytes,
    module: {
      file: r.moduleFile,
      sha256: r.preparedSha256,
      size: r.preparedSize,
      inputSha256: r.inputSha256,
      inputSize: r.inputSize,
      asyncify: "already",
    },
    moduleIdentity: r.moduleIdentity,
    configHash: r.configHash,
    journalBytes: r.journalBytes,
    records: r.records,
    rawRecords: r.records,
    rawSize: r.journalBytes.length,
    trigger: "bootstrap (Ruby runner, after the warm-up requests)",
    timings: r.timings,
    // The Ruby runner seeds its own PRNGs after restore; it does not count boot facts.
    bootFacts: { randomBytes: 0, clockReads: 0 },
    warmup: r.warmup,
    rewrites: r.rewrites,
    extraFiles: r.extraFiles,
  };
}

async function writeBundle(
  app: ResolvedApp,
  options: DeployOptions,
  snap: Snapshot,
  warnings: string[],
): Promise<DeployResult> {
  const appDir = resolve(app.appDir);
  // Write into a staging directory, then swap it in: a failed deploy leaves no half bundle.
  // The bundle is the app directory with the module replaced by the prepared one.
  const out = resolve(options.out);
  const staging = `${out}.tmp-${crypto.randomUUID()}`;
  await Deno.mkdir(staging, { recursive: true });
  const files: { path: string; sha256: string; size: number }[] = [];
  const outRel = relative(appDir, out);
  const skip = (p: string) =>
    p === ".thaw-cache" || p === "out" || p === snap.moduleFile || p === "manifest.json" ||
    (snap.extraFiles?.has(p) ?? false) ||
    (!outRel.startsWith("..") && (p === outRel || p.startsWith(`${outRel}.`))) ||
    p.endsWith(".journal");
  for (const p of await listFiles(appDir, skip)) {
    const bytes = snap.rewrites.get(p) ?? await Deno.readFile(`${appDir}/${p}`);
    const dir = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
    if (dir) await Deno.mkdir(`${staging}/${dir}`, { recursive: true });
    await Deno.writeFile(`${staging}/${p}`, bytes);
    files.push({ path: p, sha256: await sha256Hex(bytes), size: bytes.length });
  }
  const rel = snap.moduleFile;
  const relDir = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
  if (relDir) await Deno.mkdir(`${staging}/${relDir}`, { recursive: true });
  await Deno.writeFile(`${staging}/${rel}`, snap.moduleBytes);
  for (const [path, bytes] of snap.extraFiles ?? []) {
    await Deno.writeFile(`${staging}/${path}`, bytes);
    files.push({ path, sha256: await sha256Hex(bytes), size: bytes.length });
  }
  await Deno.writeFile(`${staging}/snapshot.journal`, snap.journalBytes);
  // The bundle's own config, resolved as a host will resolve it, so that a host can start the
  // bundle without the config parsers.
  let bundled: ResolvedApp;
  try {
    bundled = await loadApp(staging, { paths: "absolute" });
  } catch (e) {
    await Deno.remove(staging, { recursive: true });
    if (!(e instanceof ConfigError)) throw e;
    throw new DeployError(
      `the bundle's app.yaml does not load:\n${e.issues.map(formatIssue).join("\n")}`,
    );
  }
  const resolved = await recordApp(bundled, staging);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    name: app.name,
    runner: app.runner,
    createdAt: new Date().toISOString(),
    thawVersion: THAW_VERSION,
    module: snap.module,
    journal: {
      file: "snapshot.journal",
      sha256: await sha256Hex(snap.journalBytes),
      size: snap.journalBytes.length,
      records: snap.records,
      trigger: snap.trigger,
      rawRecords: snap.rawRecords,
      rawSize: snap.rawSize,
    },
    configHash: snap.configHash,
    moduleIdentity: snap.moduleIdentity,
    files,
    timings: snap.timings,
    bootFacts: snap.bootFacts,
    warmup: snap.warmup,
    ...(resolved !== undefined ? { resolved } : {}),
  };
  await Deno.writeTextFile(`${staging}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
  const old = `${out}.old-${crypto.randomUUID()}`;
  let hadOld = false;
  try {
    await Deno.rename(out, old);
    hadOld = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.mkdir(resolve(out, ".."), { recursive: true });
  await Deno.rename(staging, out);
  if (hadOld) await Deno.remove(old, { recursive: true });
  return { manifest, warnings };
}
