/**
 * Deploy bundles: a copy of the app directory (app.yaml, wasmer.toml, package files) in which the
 * package's module is replaced by the prepared one, plus the journal and `manifest.json`. A bundle
 * is therefore also a plain app directory: a host that knows nothing of instaboot cold-boots it.
 *
 * ```
 * bundle/
 *   app.yaml, wasmer.toml, public/...   the app, as written
 *   server.wasm                          the prepared module (exported globals, asyncify)
 *   snapshot.journal                     the compacted journal
 *   manifest.json                        hashes, sizes, timings, boot facts (BundleManifest)
 * ```
 * @module
 */

import type { RecordedApp } from "../../config/recorded/mod.ts";
import { sha256Hex } from "./prepare.ts";

/** Format tag of {@link BundleManifest}. */
export const BUNDLE_FORMAT = "thaw.bundle/v1";

/** `manifest.json` of a bundle. */
export interface BundleManifest {
  /** Always {@link BUNDLE_FORMAT}. */
  readonly format: typeof BUNDLE_FORMAT;
  /** App name (app.yaml `name`). */
  readonly name: string;
  /** The runner kind. */
  readonly runner: string;
  /** ISO time of the deploy. */
  readonly createdAt: string;
  /** The Thaw version that deployed it. */
  readonly thawVersion: string;
  /** The prepared module: path in the bundle, hash, size, and the shipped module's. */
  readonly module: {
    /**
     * Path of the module in the bundle. Rack bundles from before Thaw shipped the prepared
     * ruby.wasm (`shipped: false`) hold the path their wasmer.toml names instead.
     */
    readonly file: string;
    /** Whether the bundle carries the module (false only in older Rack bundles). @default true */
    readonly shipped?: boolean;
    readonly sha256: string;
    readonly size: number;
    /** SHA-256 and size of the module as the package shipped it. */
    readonly inputSha256: string;
    readonly inputSize: number;
    readonly asyncify: string;
  };
  /** The journal: path in the bundle, hash, size, records, trigger. */
  readonly journal: {
    readonly file: string;
    readonly sha256: string;
    readonly size: number;
    readonly records: number;
    /** What took the snapshot (trigger and syscall). */
    readonly trigger: string;
    /** Records and bytes before compaction. */
    readonly rawRecords: number;
    readonly rawSize: number;
  };
  /** SHA-256 of the config fields the snapshot depends on. */
  readonly configHash: string;
  /** The module identity the journal was captured with (see `moduleIdentity`). */
  readonly moduleIdentity: string;
  /** Every other file of the bundle (relative paths) with its SHA-256. */
  readonly files: readonly {
    readonly path: string;
    readonly sha256: string;
    readonly size: number;
  }[];
  /** Milliseconds per deploy phase. */
  readonly timings: Readonly<Record<string, number>>;
  /** What the guest did during boot that every restored instance inherits. */
  readonly bootFacts: {
    readonly randomBytes: number;
    readonly clockReads: number;
  };
  /** Warm-up requests and their results. */
  readonly warmup: readonly {
    readonly method: string;
    readonly path: string;
    readonly status: number;
    readonly ms: number;
  }[];
  /**
   * The bundle's app as its own app.yaml resolves, for hosts that start it without the config
   * parsers (config/recorded). Absent in bundles from before it, and when the app reaches outside
   * the bundle.
   */
  readonly resolved?: RecordedApp;
}

/** Thrown when a bundle is malformed; `status` is 400 for the admin API. */
export class BundleError extends Error {
  /** The admin API's answer to it. */
  readonly status = 400;
  /** Creates the error; the message names the file and the problem. */
  constructor(message: string) {
    super(message);
    this.name = "BundleError";
  }
}

/**
 * Checks a relative path from a bundle: no absolute paths, no `..`, no empty or dot segments, no
 * backslashes or NULs, so a bundle can never write outside its directory.
 */
export function safeRelativePath(path: string): boolean {
  if (path.length === 0 || path.length > 4096) return false;
  if (path.startsWith("/") || path.includes("\\") || path.includes("\0")) return false;
  return path.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}

/** Parses and checks the shape of `manifest.json`. */
export function parseManifest(text: string): BundleManifest {
  let m: BundleManifest;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new BundleError(`manifest.json is not JSON: ${(e as Error).message}`);
  }
  const need = (ok: boolean, what: string) => {
    if (!ok) {
      throw new BundleError(`manifest.json: ${what}; rebuild the bundle with deno task deploy`);
    }
  };
  need(typeof m === "object" && m !== null, "must be an object");
  need(m.format === BUNDLE_FORMAT, `format must be "${BUNDLE_FORMAT}"`);
  need(typeof m.name === "string" && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(m.name), "bad name");
  need(
    typeof m.module?.file === "string" &&
      (m.module.shipped === false || safeRelativePath(m.module.file)),
    "bad module.file",
  );
  need(typeof m.module?.sha256 === "string", "module.sha256 missing");
  need(typeof m.journal?.file === "string" && safeRelativePath(m.journal.file), "bad journal.file");
  need(typeof m.journal?.sha256 === "string", "journal.sha256 missing");
  need(typeof m.configHash === "string", "configHash missing");
  need(typeof m.moduleIdentity === "string", "moduleIdentity missing");
  need(Array.isArray(m.files), "files must be a list");
  for (const f of m.files) {
    need(
      typeof f?.path === "string" && safeRelativePath(f.path) && typeof f.sha256 === "string",
      `bad files entry ${JSON.stringify(f)}`,
    );
  }
  return m;
}

/**
 * Checks that a set of bundle files (relative path to bytes) is complete and matches its
 * manifest's hashes, and that the module compiles.
 *
 * @throws {BundleError} naming the first problem.
 */
export async function checkBundleFiles(
  files: ReadonlyMap<string, Uint8Array>,
): Promise<BundleManifest> {
  const manifestBytes = files.get("manifest.json");
  if (manifestBytes === undefined) throw new BundleError("The bundle has no manifest.json");
  const m = parseManifest(new TextDecoder().decode(manifestBytes));
  const expectFile = async (path: string, sha256: string) => {
    const bytes = files.get(path);
    if (bytes === undefined) throw new BundleError(`The bundle lacks ${path}`);
    const got = await sha256Hex(bytes);
    if (got !== sha256) {
      throw new BundleError(`${path} does not match its SHA-256 in manifest.json`);
    }
    return bytes;
  };
  const module = m.module.shipped === false
    ? null
    : await expectFile(m.module.file, m.module.sha256);
  await expectFile(m.journal.file, m.journal.sha256);
  for (const f of m.files) await expectFile(f.path, f.sha256);
  if (!files.has("app.yaml")) throw new BundleError("The bundle lacks app.yaml");
  const known = new Set([
    "manifest.json",
    ...(module === null ? [] : [m.module.file]),
    m.journal.file,
    ...m.files.map((f) => f.path),
  ]);
  for (const path of files.keys()) {
    if (!known.has(path)) throw new BundleError(`${path} is not listed in manifest.json`);
  }
  if (module !== null && !WebAssembly.validate(module as Uint8Array<ArrayBuffer>)) {
    throw new BundleError(`${m.module.file} is not a valid Wasm module`);
  }
  return m;
}

/** Whether `dir` holds a bundle (a `manifest.json` of this format). */
export async function isBundleDir(dir: string): Promise<boolean> {
  try {
    const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    return m?.format === BUNDLE_FORMAT;
  } catch {
    return false;
  }
}

/** Reads every file of a bundle directory into a map of relative path to bytes. */
export async function readBundleFiles(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  async function walk(rel: string): Promise<void> {
    for await (const e of Deno.readDir(rel === "" ? dir : `${dir}/${rel}`)) {
      const p = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.isFile) out.set(p, await Deno.readFile(`${dir}/${p}`));
    }
  }
  await walk("");
  return out;
}
