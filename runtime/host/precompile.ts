/**
 * Early compilation of deploy bundles' modules, started before the rest of the host loads.
 *
 * A host process spends its first 100-150 ms loading its own code (the config parsers, the
 * runners, the journal codec) before it reads any app. V8 compiles Wasm on its background
 * threads, so the host's entry point calls {@linkcode precompileBundles} first, with nothing but
 * this module loaded: every bundle's module (a rack bundle's restore-only module) is read and
 * handed to `WebAssembly.compile` at once, and {@linkcode loadHostApp} later takes the result
 * when the bytes it would compile are the same ({@linkcode takePrecompiled}).
 *
 * Only bundles are looked at (a directory with a `manifest.json`, from `deno task deploy`): a
 * plain app's module is prepared or rewritten at load time. Anything unexpected (no manifest, a
 * manifest that does not parse, a missing file) is skipped silently; the normal load path then
 * reports it.
 *
 * This module imports nothing, so that it loads in a few milliseconds.
 *
 * @example
 * ```ts ignore
 * precompileBundles("out");
 * const { loadApps } = await import("./mod.ts"); // takes the modules compiled meanwhile
 * ```
 * @module
 */

/** A module compiling (or compiled) ahead of its app's load, with the bytes it came from. */
interface Early {
  readonly bytes: Uint8Array;
  readonly module: Promise<WebAssembly.Module>;
  /** The file's identity when it was read: a file changed since is read again. */
  readonly stamp: string;
}

/** Size, modification time and inode: what changes when a file is replaced or rewritten. */
function stampOf(info: Deno.FileInfo): string {
  return `${info.size}:${info.mtime?.getTime()}:${info.ino}:${info.dev}`;
}

const early = new Map<string, Early>();

/** File name of a rack bundle's restore-only module (runtime/runners/rack.ts). */
const RUBY_RESTORE_MODULE = "ruby.restore.wasm";

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** An absolute, normalized path (the key both sides agree on). */
function absolute(path: string): string {
  const url = new URL(path.replace(/\/+/g, "/"), `file://${Deno.cwd()}/`);
  return decodeURIComponent(url.pathname);
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The module file a host will compile for the bundle in `dir`, if it is one. */
function bundleModule(dir: string): string | undefined {
  let manifest: { module?: { file?: unknown }; runner?: unknown; journal?: unknown };
  try {
    manifest = JSON.parse(Deno.readTextFileSync(join(dir, "manifest.json")));
  } catch {
    return undefined;
  }
  const file = manifest.module?.file;
  if (typeof file !== "string" || file.includes("..")) return undefined;
  if (manifest.runner === "rack" && manifest.journal && isFile(join(dir, RUBY_RESTORE_MODULE))) {
    return join(dir, RUBY_RESTORE_MODULE);
  }
  return join(dir, file);
}

/**
 * Starts reading and compiling the module of every bundle in `appsDir` (the directory itself
 * when it is a bundle, else its subdirectories). Returns at once; never throws.
 */
export function precompileBundles(appsDir: string): void {
  let dirs: string[];
  try {
    dirs = isFile(join(appsDir, "manifest.json"))
      ? [appsDir]
      : [...Deno.readDirSync(appsDir)].filter((e) => e.isDirectory).map((e) =>
        join(appsDir, e.name)
      );
  } catch {
    return;
  }
  for (const dir of dirs) {
    const found = bundleModule(dir);
    if (found === undefined) continue;
    const path = absolute(found);
    if (early.has(path)) continue;
    let bytes: Uint8Array;
    let stamp: string;
    try {
      // Synchronous: an async read would wait for the host's module loading to finish.
      stamp = stampOf(Deno.statSync(path));
      bytes = Deno.readFileSync(path);
    } catch {
      continue;
    }
    const module = WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    // A module that fails to compile is reported by the normal load path.
    module.catch(() => {});
    early.set(path, { bytes, module, stamp });
  }
}

/** What {@linkcode takePrecompiled} hands over: the file's bytes and their compiled module. */
export interface Precompiled {
  /** The module file's bytes, as read at start. */
  readonly bytes: Uint8Array;
  /** Their module; rejects as `WebAssembly.compile` did. */
  readonly module: Promise<WebAssembly.Module>;
}

/**
 * The bytes read and the module compiled early from `path`, if {@linkcode precompileBundles}
 * started one and the file has not changed since (same size, modification time and inode); else
 * `undefined`, and the caller reads and compiles the file itself. Each is handed out once.
 */
export async function takePrecompiled(path: string): Promise<Precompiled | undefined> {
  const key = absolute(path);
  const got = early.get(key);
  if (got === undefined) return undefined;
  early.delete(key);
  try {
    if (stampOf(await Deno.stat(key)) !== got.stamp) return undefined;
  } catch {
    return undefined;
  }
  return { bytes: got.bytes, module: got.module };
}
