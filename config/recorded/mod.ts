/**
 * Recorded apps: the resolved config a deploy bundle carries, so that a host starts the bundle
 * without loading the YAML and TOML parsers and the zod schemas (about 90 ms of module loading in
 * a fresh process, more than the rest of the host's code together).
 *
 * `deno task deploy` resolves the bundle's own app.yaml (and wasmer.toml) with config/'s
 * `loadApp`, and {@linkcode recordApp} stores the result in
 * `manifest.json` with every path relative to the bundle and the SHA-256 of each config file.
 * {@linkcode appFromRecord} gives that app back only while those files are byte for byte the ones
 * it was resolved from (the same bytes resolve to the same app), the module and every mount are
 * still there, and the record has the shape this version writes. In every other case it returns
 * why not, and the caller loads the app the normal way, which reports any problem with its file,
 * line and column.
 *
 * This module imports no parser: only types from the rest of config/.
 *
 * @example
 * ```ts ignore
 * import { loadApp } from "../mod.ts";
 * import { appFromRecord, recordApp } from "./mod.ts";
 * const record = await recordApp(await loadApp("out/blog"), "out/blog");
 * const app = await appFromRecord(record, "out/blog"); // { app } while app.yaml is unchanged
 * ```
 * @module
 */

import type { ResolvedApp } from "../load_app.ts";

/** Version of {@linkcode RecordedApp}; a record of another version is not used. */
export const RECORD_VERSION = 1;

/** A resolved app as a bundle's manifest stores it. */
export interface RecordedApp {
  /** Always {@linkcode RECORD_VERSION}. */
  readonly version: typeof RECORD_VERSION;
  /** SHA-256 (hex) of each config file the app was resolved from, by path in the bundle. */
  readonly sources: Readonly<Record<string, string>>;
  /** The resolved app, with every host path relative to the bundle ("." for the bundle). */
  readonly app: ResolvedApp;
}

/** What {@linkcode appFromRecord} found: the app, or why the record does not apply. */
export type RecordedAppResult =
  | { readonly app: ResolvedApp }
  | { readonly stale: string };

/** Host path fields of a {@linkcode ResolvedApp}, moved in and out of the bundle together. */
function mapPaths(app: ResolvedApp, f: (path: string) => string): ResolvedApp {
  return {
    ...app,
    appDir: f(app.appDir),
    wasmPath: f(app.wasmPath),
    packageDir: f(app.packageDir),
    mounts: app.mounts.map((m) => ({ guest: m.guest, host: f(m.host) })),
    sources: {
      appYaml: f(app.sources.appYaml),
      ...(app.sources.wasmerToml !== undefined ? { wasmerToml: f(app.sources.wasmerToml) } : {}),
      wasm: f(app.sources.wasm),
    },
    warnings: app.warnings.map((w) => w.file === "" ? w : { ...w, file: f(w.file) }),
  };
}

function trimSlash(dir: string): string {
  return dir.length > 1 && dir.endsWith("/") ? dir.slice(0, -1) : dir;
}

/** An absolute path, normalized (no `.`, `..` or doubled slashes). */
function absolute(path: string): string {
  return decodeURIComponent(new URL(path, `file://${Deno.cwd()}/`).pathname);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Records `app`, resolved from the bundle directory `dir`, for the bundle's manifest. Returns
 * `undefined` when the app reaches outside `dir` (a mount or module elsewhere): such an app is
 * always loaded the normal way.
 */
export async function recordApp(
  app: ResolvedApp,
  dir: string,
): Promise<RecordedApp | undefined> {
  const root = trimSlash(absolute(dir));
  let outside = false;
  const relative = (path: string): string => {
    const p = absolute(path);
    if (p === root) return ".";
    if (p.startsWith(`${root}/`)) return p.slice(root.length + 1);
    outside = true;
    return p;
  };
  const recorded = mapPaths(app, relative);
  if (outside) return undefined;
  const sources: Record<string, string> = {};
  for (const file of [app.sources.appYaml, app.sources.wasmerToml]) {
    if (file === undefined) continue;
    sources[relative(file)] = await sha256Hex(await Deno.readFile(file));
  }
  return { version: RECORD_VERSION, sources, app: recorded };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The shape checks a record must pass; anything else is reloaded from its files. */
function shapeProblem(record: unknown): string | undefined {
  if (!isRecord(record)) return "no recorded app";
  if (record.version !== RECORD_VERSION) return `record version ${String(record.version)}`;
  if (!isRecord(record.sources) || Object.keys(record.sources).length === 0) {
    return "no recorded config files";
  }
  const app = record.app;
  if (!isRecord(app)) return "no recorded app";
  for (const key of ["name", "appDir", "wasmPath", "runner", "runnerUri", "packageDir"]) {
    if (typeof app[key] !== "string") return `recorded app without ${key}`;
  }
  if (!Array.isArray(app.mounts) || !Array.isArray(app.args) || !Array.isArray(app.domains)) {
    return "recorded app without mounts, args or domains";
  }
  if (!Array.isArray(app.warnings)) return "recorded app without warnings";
  for (const w of app.warnings) {
    if (!isRecord(w) || typeof w.file !== "string") return "recorded app with a malformed warning";
  }
  if (!isRecord(app.env) || !isRecord(app.sources) || !isRecord(app.scaling)) {
    return "recorded app without env, sources or scaling";
  }
  if (typeof app.sources.appYaml !== "string" || typeof app.sources.wasm !== "string") {
    return "recorded app without its source files";
  }
  for (const m of app.mounts) {
    if (!isRecord(m) || typeof m.guest !== "string" || typeof m.host !== "string") {
      return "recorded app with a malformed mount";
    }
  }
  return undefined;
}

function inside(path: string): boolean {
  return path === "." || (!path.startsWith("/") && !path.split("/").includes(".."));
}

async function exists(path: string, kind: "file" | "directory"): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return kind === "file" ? info.isFile : info.isDirectory;
  } catch {
    return false;
  }
}

/**
 * The app recorded for the bundle in `dir`, if the record still describes it: every config file
 * it came from has the recorded SHA-256, and its module and mounts exist. Otherwise
 * `{ stale: reason }`, and the caller loads the app from its files. Never throws.
 */
export async function appFromRecord(record: unknown, dir: string): Promise<RecordedAppResult> {
  const problem = shapeProblem(record);
  if (problem !== undefined) return { stale: problem };
  const { sources, app } = record as RecordedApp;
  const root = trimSlash(absolute(dir));
  const paths = [
    app.appDir,
    app.wasmPath,
    app.packageDir,
    app.sources.appYaml,
    app.sources.wasm,
    ...(typeof app.sources.wasmerToml === "string" ? [app.sources.wasmerToml] : []),
    ...app.mounts.map((m) => m.host),
    ...app.warnings.map((w) => w.file).filter((f) => f !== ""),
    ...Object.keys(sources),
  ];
  if (!paths.every(inside)) return { stale: "a recorded path leaves the bundle" };
  const under = (rel: string) => rel === "." ? root : `${root}/${rel}`;
  for (const [file, hash] of Object.entries(sources)) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(under(file));
    } catch {
      return { stale: `${file} cannot be read` };
    }
    if (await sha256Hex(bytes) !== hash) return { stale: `${file} changed since the deploy` };
  }
  if (!(await exists(under(app.wasmPath), "file"))) return { stale: `${app.wasmPath} is missing` };
  for (const m of app.mounts) {
    if (!(await exists(under(m.host), "directory"))) return { stale: `${m.host} is missing` };
  }
  return { app: mapPaths(app, under) };
}
