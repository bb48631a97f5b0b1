/**
 * The app loader: turns a directory of apps (plain app directories or instaboot bundles alike)
 * into {@linkcode HostApp}s, and every app that cannot load into a {@linkcode BrokenApp} with a
 * message naming the file, line and column. One broken app never stops the others.
 *
 * @module
 */

import { basename, dirname, join, relative } from "node:path";
import type { ResolvedApp } from "../../config/mod.ts";
import { appFromRecord } from "../../config/recorded/mod.ts";
import type { InstancePermissions, InstanceSpec } from "../instance/mod.ts";
import { loadRackRunner, RACK_BOOT_URL } from "../runners/mod.ts";
import { limitMemory, MemoryLimitError } from "./limits.ts";
import { takePrecompiled } from "./precompile.ts";
import type { BrokenApp, HostApp } from "./server.ts";

/** Options for {@linkcode loadApps}. */
export interface LoadAppsOptions {
  /**
   * Checks a compiled module's imports; returns a message per import Thaw cannot provide.
   * @default {the WASI and WASIX import tables}
   */
  checkImports?: (module: WebAssembly.Module) => string[] | Promise<string[]>;
  /**
   * Called for each app as soon as its Worker permissions and boot module are known, before its
   * module is compiled: a host reserves the app's blank Workers meanwhile
   * (`WorkerSpawner.reserve`), so that they are ready when it starts listening.
   */
  onWorkers?: (permissions: InstancePermissions, bootUrl: string | undefined) => void;
  /**
   * Whether a bundle's recorded config (its manifest's `resolved`, see config/recorded) may stand
   * in for parsing its app.yaml while the config files are the ones it was recorded from. The
   * admin API's uploads pass false: their manifest comes from the uploader. @default {true}
   */
  recorded?: boolean;
}

/**
 * Lists the imports of `module` that neither WASI preview1 nor WASIX provides. The import tables
 * load on the first call: a host that serves only rack apps never loads them on its main thread.
 *
 * @example
 * ```ts ignore
 * const problems = await missingImports(await WebAssembly.compile(bytes)); // [] when it can run
 * ```
 */
export async function missingImports(module: WebAssembly.Module): Promise<string[]> {
  const [{ checkImports, UnknownImportError }, { importObject, Process }, wasix] = await Promise
    .all([
      import("../instantiate/mod.ts"),
      import("../wasi/mod.ts"),
      import("../wasix/mod.ts"),
    ]);
  const proc = new Process({ jspi: false });
  const imports = importObject(proc, { [wasix.WASIX_MODULE]: wasix.wasixImports(proc) });
  try {
    checkImports(module, imports);
    return [];
  } catch (err) {
    if (err instanceof UnknownImportError) return [err.message];
    throw err;
  }
}

/** `file:line:column` of app.yaml's `package:` value, where module problems are reported. */
async function packagePosition(appYaml: string): Promise<string> {
  const file = relative(Deno.cwd(), appYaml);
  try {
    const lines = (await Deno.readTextFile(appYaml)).split("\n");
    for (let i = 0; i < lines.length; i++) {
      const m = /^package\s*:\s*/.exec(lines[i]);
      if (m) return `${file}:${i + 1}:${m[0].length + 1}`;
    }
  } catch { /* fall back to the file alone */ }
  return file;
}

/** What {@linkcode loadApps} found. */
export interface LoadedApps {
  apps: HostApp[];
  broken: BrokenApp[];
}

const SERVABLE = new Set(["proxy", "wcgi", "rack"]);

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Finds the app directories under `dir`: `dir` itself when it holds an app.yaml, else each
 * subdirectory that does (sorted by name).
 */
export async function findAppDirs(dir: string): Promise<string[]> {
  if (await isFile(join(dir, "app.yaml"))) return [dir];
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isDirectory || entry.name.startsWith(".")) continue;
    if (await isFile(join(dir, entry.name, "app.yaml"))) found.push(join(dir, entry.name));
  }
  return found.sort();
}

/** A bundle's journal, when `dir` is an instaboot bundle (manifest.json plus one *.journal). */
async function findJournal(dir: string): Promise<string | undefined> {
  if (!(await isFile(join(dir, "manifest.json")))) return undefined;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".journal")) return join(dir, entry.name);
  }
  return undefined;
}

/** What the host needs from runtime/snapshot to boot proxy and WCGI apps. */
interface SnapshotSupport {
  /** The Worker boot function that restores from a journal (or cold-boots). */
  SNAPSHOT_BOOT_URL: string;
  /** Directories that Worker must be allowed to read to load it. */
  SNAPSHOT_WORKER_READ: readonly string[];
}

function loadSnapshotSupport(): Promise<SnapshotSupport> {
  // Computed, so the host does not load the snapshot code (binaryen, the journal codec) until an
  // app needs it.
  return import(new URL(["..", "snapshot", "mod.ts"].join("/"), import.meta.url).href);
}

/** config/'s loader, imported when an app has to be parsed (about 90 ms in a fresh process). */
function loadConfig(): Promise<typeof import("../../config/mod.ts")> {
  return import(new URL(["..", "..", "config", "mod.ts"].join("/"), import.meta.url).href);
}

/**
 * The resolved app in `dir`: a bundle's recorded config while it applies, else app.yaml (and
 * wasmer.toml) parsed and validated.
 */
async function resolveApp(dir: string, recorded: boolean): Promise<ResolvedApp> {
  if (recorded) {
    let manifest: { resolved?: unknown } | undefined;
    try {
      manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    } catch { /* not a bundle, or a manifest the normal path reports */ }
    if (manifest?.resolved !== undefined) {
      const found = await appFromRecord(manifest.resolved, dir);
      if ("app" in found) return found.app;
    }
  }
  const { loadApp } = await loadConfig();
  return await loadApp(dir);
}

/** Thaw's own source tree: Workers that load a runner's boot module at run time read it. */
const SOURCE_ROOT = new URL("../../", import.meta.url).pathname;

/** Builds the instance spec and Worker permissions for a resolved app. */
export function instanceSpecOf(
  app: ResolvedApp,
  journalPath?: string,
  options: { readSource?: boolean; read?: readonly string[] } = {},
): { spec: InstanceSpec; permissions: InstancePermissions } {
  const mounts = app.mounts.map((m) => ({ guest: m.guest, host: m.host }));
  const spec: InstanceSpec = {
    name: app.name,
    runner: app.runner as InstanceSpec["runner"],
    env: { ...app.env },
    args: [...app.args],
    wasmPath: app.wasmPath,
    mounts,
    journalPath,
    memoryLimitBytes: app.memoryLimitBytes,
    // Read by the instaboot boot function: journals older than app.yaml's `max_age` are refused.
    ...(app.instaboot?.maxAgeMs !== undefined ? { maxAgeMs: app.instaboot.maxAgeMs } : {}),
  };
  // A Worker reads only what the app mounts, and the journal it restores from.
  const read = [...mounts.map((m) => m.host), ...(journalPath ? [journalPath] : [])];
  if (options.readSource) read.push(SOURCE_ROOT);
  read.push(...(options.read ?? []));
  const permissions: InstancePermissions = read.length === 0 ? "none" : {
    read,
    write: false,
    net: false,
    env: false,
    run: false,
    ffi: false,
    sys: false,
    import: false,
  };
  return { spec, permissions };
}

/**
 * Loads one app directory: validates its config, reads, limits and compiles its module.
 *
 * @throws {ConfigError} for app.yaml or wasmer.toml problems, or an Error naming the module
 * file for a missing, malformed or unsupported module.
 */
export async function loadHostApp(dir: string, options: LoadAppsOptions = {}): Promise<HostApp> {
  const resolved = await resolveApp(dir, options.recorded ?? true);
  if (!SERVABLE.has(resolved.runner)) {
    throw new Error(
      `${resolved.sources.appYaml}: runner "${resolved.runner}" does not serve HTTP; ` +
        `use proxy, wcgi or rack (or run it with \`deno task thaw run\`)`,
    );
  }
  const start = performance.now();
  const journal = await findJournal(dir);
  const isRack = resolved.runner === "rack";
  // The Ruby runner (and the journal codec with it) loads while the app's Workers start.
  const rackLoading = isRack ? loadRackRunner() : undefined;
  let bootUrl = RACK_BOOT_URL;
  let extraRead: readonly string[] = [];
  if (!isRack) {
    // Proxy and WCGI apps boot through the instaboot boot function, bundle or not: a bundle's
    // instances restore from its journal, and every cold boot (a plain app, or a journal that does
    // not apply) gives the guest the same file system as a restore: a writable memory `/` with the
    // package mounted read-only.
    const snapshot = await loadSnapshotSupport();
    bootUrl = snapshot.SNAPSHOT_BOOT_URL;
    extraRead = snapshot.SNAPSHOT_WORKER_READ;
  }
  const { spec, permissions } = instanceSpecOf(resolved, journal, {
    readSource: isRack,
    read: extraRead,
  });
  options.onWorkers?.(permissions, bootUrl);
  const rack = await rackLoading;
  // A rack bundle with a journal compiles the restore-only variant beside its module (no data
  // segments, 40% of the bytes); an instance whose journal is refused loads the full module.
  const restoreOnly = rack && journal !== undefined
    ? join(dirname(resolved.wasmPath), rack.RUBY_RESTORE_MODULE)
    : undefined;
  const source = restoreOnly !== undefined && await isFile(restoreOnly)
    ? restoreOnly
    : resolved.wasmPath;
  // A bundle's module was read and handed to the compiler when the host started (precompile.ts).
  const early = await takePrecompiled(source);
  let bytes: Uint8Array;
  try {
    bytes = early?.bytes ??
      (rack ? await rack.readWholeFile(source) : await Deno.readFile(source));
  } catch (err) {
    throw new Error(`${source}: cannot read the module: ${(err as Error).message}`);
  }
  if (rack) bytes = await rack.prepareRubyModule(bytes);
  if (resolved.memoryLimitBytes !== undefined) {
    try {
      bytes = limitMemory(bytes, resolved.memoryLimitBytes);
    } catch (err) {
      if (!(err instanceof MemoryLimitError)) throw err;
      throw new Error(`${resolved.wasmPath}: ${err.message}`);
    }
  }
  // A rack app's journal is decoded here, once per process, while V8 compiles the module on its
  // background threads; every instance Worker gets the decoded image. A journal that does not
  // apply is left to the Worker, which cold-boots and reports why.
  const appMount = resolved.mounts.find((m) => m.guest === rack?.APP_MOUNT);
  const decoding = rack && journal !== undefined && appMount
    ? rack.decodeSharedJournal(bytes, journal, appMount.host, resolved.env).catch(() => undefined)
    : Promise.resolve(undefined);
  let module: WebAssembly.Module;
  try {
    // The early module stands only while preparing and limiting left the bytes as they were.
    module = early !== undefined && early.bytes === bytes
      ? await early.module
      : await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new Error(
      `${source}: not a valid WebAssembly module: ${(err as Error).message}`,
    );
  }
  const shared = await decoding;
  const loadMs = performance.now() - start;
  // Rack apps get their extra imports from the Rack runner's own boot function.
  const check = options.checkImports ?? (rack ? () => [] : missingImports);
  const problems = await check(module);
  if (problems.length > 0) {
    const at = await packagePosition(resolved.sources.appYaml);
    throw new Error(
      `${at}: package ${relative(Deno.cwd(), resolved.wasmPath)} cannot run on Thaw: ` +
        problems.join("; "),
    );
  }
  if (shared !== undefined) {
    spec.journalImage = shared.image;
    spec.appFiles = shared.files;
  }
  return {
    name: resolved.name,
    domains: resolved.domains,
    spec,
    module,
    loadMs,
    singleConcurrency: resolved.scaling.mode === "single_concurrency",
    permissions,
    bootUrl,
    source: dir,
  };
}

/**
 * Loads every app under `dir`. Apps that fail are returned as broken, with their diagnostics.
 *
 * @example
 * ```ts ignore
 * import { loadApps } from "./apps.ts";
 * const { apps, broken } = await loadApps("examples");
 * for (const b of broken) console.error(b.message);
 * ```
 */
export async function loadApps(dir: string, options: LoadAppsOptions = {}): Promise<LoadedApps> {
  const apps: HostApp[] = [];
  const broken: BrokenApp[] = [];
  const dirs = await findAppDirs(dir);
  const results = await Promise.allSettled(dirs.map((d) => loadHostApp(d, options)));
  results.forEach((result, i) => {
    if (result.status === "fulfilled") {
      if (apps.some((a) => a.name === result.value.name)) {
        broken.push({
          name: basename(dirs[i]),
          message: `${dirs[i]}: app name "${result.value.name}" is already used by another app`,
          source: dirs[i],
        });
      } else apps.push(result.value);
      return;
    }
    const err = result.reason;
    const message = err instanceof Error ? err.message : String(err);
    broken.push({ name: basename(dirs[i]), message, source: dirs[i] });
  });
  return { apps, broken };
}
