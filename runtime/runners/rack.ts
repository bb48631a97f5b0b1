/**
 * The Rack runner: serves a Ruby Rack app (an `app.rb` whose `call(env)` returns
 * `[status, headers, body]`, no rack gem needed) from a ruby.wasm instance.
 *
 * The instance is booted ({@linkcode bootRackInstance}) or restored from a memory image
 * ({@linkcode restoreRackInstance}); the runner then turns each `Request` into the Rack env
 * inside the guest (see `ruby/prelude.ts` for the wire format) and the app's frames into a
 * streamed `Response`. Requests to one instance run one at a time: the guest is
 * single-threaded.
 *
 * @example
 * ```ts ignore
 * const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
 * const app = await readRackApp("examples/ruby-blog");
 * const runner = createRackRunner(await bootRackInstance(program, app));
 * const res = await runner.handle(new Request("http://localhost/"));
 * ```
 *
 * @module
 */

import type { RawRequest, RawResponse, Runner } from "./runner.ts";
import { appHash, decodeRubyJournal, encodeRubyJournal } from "./ruby/journal.ts";
import { readWholeFileShared } from "./ruby/read_file.ts";
import { readLayoutFromBytes } from "./ruby/wasm_module.ts";
import { type Frame, FrameError } from "./ruby/channel.ts";
import { PROFILE_EXPORT, profiledFunctions, profilingModule } from "./ruby/hints.ts";
import {
  type InstanceOptions,
  loadRubyProgram as compileRubyProgram,
  type MemoryImage,
  type RackApp,
  type RubyInstance,
  RubyInstance as Instance,
  type RubyProgram,
} from "./ruby/instance.ts";

export { FrameError } from "./ruby/channel.ts";
export { RubyError } from "./ruby/abi.ts";
export { GuestAbortedError } from "./ruby/instance.ts";
export { JS_INTEROP_MESSAGE } from "./ruby/js_interop.ts";
export {
  APP_MOUNT,
  type InstanceOptions,
  loadRubyProgram,
  type MemoryImage,
  newMemory,
  prepareRubyModule,
  type RackApp,
  RubyInstance,
  type RubyProgram,
  rubyProgramFromModule,
  type StartPhases,
} from "./ruby/instance.ts";
export {
  inspectModule,
  isPrepared,
  type PreparedLayout,
  readLayout,
  readLayoutFromBytes,
  restoreOnlyModule,
  WasmFormatError,
} from "./ruby/wasm_module.ts";
export {
  appHash,
  type DecodeOptions,
  decodeRubyJournal,
  type EncodeOptions,
  encodeRubyJournal,
  moduleHash,
  RubyJournalError,
  type RubyJournalRejectReason,
} from "./ruby/journal.ts";
export { MemoryPool, type PoolOptions, type PoolStats } from "./ruby/memory_pool.ts";
export { readWholeFile, readWholeFileShared } from "./ruby/read_file.ts";
export {
  compilationHints,
  HINTS_V8_FLAG,
  PRIORITY_SECTION,
  profiledFunctions,
  profilingModule,
  withCompilationHints,
} from "./ruby/hints.ts";

/**
 * URL of the instance Worker boot function for rack apps (the Worker's `bootUrl`): it
 * restores from `spec.journalPath` when set, else boots; the app is the spec's `/app` mount.
 */
export const RACK_BOOT_URL: string = new URL("./ruby/boot.ts", import.meta.url).href;

/** Path of ruby.wasm (with its stdlib) in the pinned npm package. */
export const RUBY_WASM_PATH = new URL(
  "../../node_modules/@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm",
  import.meta.url,
);

/** Boots a fresh instance of the app (see {@linkcode RubyInstance.boot}). */
export function bootRackInstance(
  program: RubyProgram,
  app: RackApp,
  opts?: InstanceOptions,
): Promise<RubyInstance> {
  return Instance.boot(program, app, opts);
}

/** Restores an instance of the app from a memory image (see {@linkcode RubyInstance.restore}). */
export function restoreRackInstance(
  program: RubyProgram,
  app: RackApp,
  image: MemoryImage,
  opts?: InstanceOptions,
): RubyInstance {
  return Instance.restore(program, app, image, opts);
}

const VCS_DIRS = new Set([".git", ".hg", ".svn"]);

/**
 * File name of the prepared ruby.wasm in a deploy bundle (top level), which makes the bundle
 * self-contained: its wasmer.toml names this file.
 */
export const RUBY_BUNDLE_MODULE = "ruby.prepared.wasm";
/**
 * File name of the restore-only variant a bundle also carries (`restoreOnlyModule`): what a host
 * compiles when the app has a journal, falling back to {@linkcode RUBY_BUNDLE_MODULE} for a cold
 * boot.
 */
export const RUBY_RESTORE_MODULE = "ruby.restore.wasm";

/** What deploy adds next to an app in its bundle: not part of the package the guest sees. */
function isBundleArtifact(name: string): boolean {
  return name === "manifest.json" || name.endsWith(".journal") || name === RUBY_BUNDLE_MODULE ||
    name === RUBY_RESTORE_MODULE;
}

/**
 * Reads an app package from a host directory: every regular file under it, by relative path.
 * Symlinks are skipped, so nothing outside the directory is read; so are version-control
 * directories and, at the top level, a deploy bundle's `manifest.json`, `*.journal` and prepared module
 * ({@linkcode RUBY_BUNDLE_MODULE}), so that a bundle and the directory it came from hash the same.
 *
 * @throws {Deno.errors.NotFound} if the directory or its `app.rb` is missing.
 */
export async function readRackApp(
  dir: string | URL,
  opts: { entry?: string; env?: Record<string, string> } = {},
): Promise<RackApp> {
  const root = typeof dir === "string" ? dir : dir.pathname;
  const files = new Map<string, Uint8Array>();
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel ? `${root}/${rel}` : root)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) {
        if (!VCS_DIRS.has(e.name)) await walk(path);
      } else if (e.isFile && !(rel === "" && isBundleArtifact(e.name))) {
        files.set(path, await Deno.readFile(`${root}/${path}`));
      }
    }
  };
  await walk("");
  const entry = opts.entry ?? "app.rb";
  if (!files.has(entry)) {
    throw new Deno.errors.NotFound(
      `${root}: no ${entry}; a Rack app needs an entry file that ends with run(app)`,
    );
  }
  return { files, entry, env: opts.env };
}

function latin1(s: string, out: number[]): void {
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
}

/**
 * Encodes a request for the guest: `[meta_len][body_len] meta body` (see ruby/prelude.ts).
 *
 * @example
 * ```ts
 * import { encodeRackRequest } from "./rack.ts";
 * const bytes = encodeRackRequest(new Request("http://localhost/a?b=1"), new Uint8Array());
 * console.assert(new DataView(bytes.buffer).getUint32(4, true) === 0);
 * ```
 */
export function encodeRackRequest(
  request: Request | RawRequest,
  body: Uint8Array,
): Uint8Array {
  const url = new URL(request.url);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const fields = [
    request.method,
    url.pathname,
    url.search.slice(1),
    url.hostname,
    port,
    url.protocol.slice(0, -1),
  ];
  let hasLength = false;
  for (const [name, value] of request.headers) {
    fields.push(name, value);
    if (name === "content-length") hasLength = true;
  }
  // fetch computes Content-Length instead of listing it; Rack apps expect CONTENT_LENGTH.
  if (body.length > 0 && !hasLength) fields.push("content-length", String(body.length));
  const meta: number[] = [];
  fields.forEach((f, i) => {
    if (i > 0) meta.push(0);
    latin1(f, meta);
  });
  const out = new Uint8Array(8 + meta.length + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, meta.length, true);
  dv.setUint32(4, body.length, true);
  out.set(meta, 8);
  out.set(body, 8 + meta.length);
  return out;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** A {@linkcode Runner} for a Rack app, with the instance it drives. */
export interface RackRunner extends Runner {
  /** The live guest. */
  readonly instance: RubyInstance;
  /** The plain-data fast path: the whole response body in one buffer. */
  handleRaw(request: RawRequest): Promise<RawResponse>;
}

/**
 * Creates the Rack runner for a live instance. `handle` answers a streamed `Response`;
 * `handleRaw` (what the instance Worker uses when present) answers plain data. Either way one
 * request runs at a time.
 *
 * @example
 * ```ts ignore
 * const runner = createRackRunner(restoreRackInstance(program, app, image));
 * const html = await (await runner.handle(new Request("http://localhost/"))).text();
 * ```
 */
export function createRackRunner(instance: RubyInstance): RackRunner {
  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => {});
    return result;
  };
  const serveOne = async (request: Request): Promise<Response> => {
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array();
    const bytes = encodeRackRequest(request, body);
    let head: Extract<Frame, { tag: "H" }> | undefined;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    let ended = false;
    await instance.serve(bytes, (frame) => {
      switch (frame.tag) {
        case "H":
          head = frame;
          break;
        case "B":
          controller.enqueue(frame.chunk);
          break;
        case "E":
          ended = true;
          controller.close();
          break;
        case "X":
          ended = true;
          controller.error(new FrameError(`Rack app failed mid-response: ${frame.message}`));
          break;
      }
    });
    if (!head) throw new FrameError("Rack app finished without sending a response head");
    if (!ended) {
      controller.error(new FrameError("Rack app response ended without its end frame"));
    }
    const headers = toHeaders(head.headers);
    const nullBody = NULL_BODY.has(head.status) || request.method === "HEAD";
    if (nullBody) stream.cancel().catch(() => {});
    return new Response(nullBody ? null : stream, { status: head.status, headers });
  };
  const serveRaw = async (request: RawRequest): Promise<RawResponse> => {
    const bytes = encodeRackRequest(request, request.body ?? new Uint8Array());
    let head: Extract<Frame, { tag: "H" }> | undefined;
    const chunks: Uint8Array[] = [];
    let ended = false;
    let failure: string | undefined;
    await instance.serve(bytes, (frame) => {
      if (frame.tag === "H") head = frame;
      else if (frame.tag === "B") chunks.push(frame.chunk);
      else if (frame.tag === "E") ended = true;
      else failure = frame.message;
    });
    if (!head) throw new FrameError("Rack app finished without sending a response head");
    if (failure !== undefined) throw new FrameError(`Rack app failed mid-response: ${failure}`);
    if (!ended) throw new FrameError("Rack app response ended without its end frame");
    toHeaders(head.headers); // validates names and values
    const nullBody = NULL_BODY.has(head.status) || request.method === "HEAD";
    return {
      status: head.status,
      statusText: "",
      headers: head.headers,
      body: nullBody ? null : concat(chunks),
    };
  };
  return {
    instance,
    handle: (request) => serialize(() => serveOne(request)),
    handleRaw: (request) => serialize(() => serveRaw(request)),
  };
}

function toHeaders(pairs: readonly [string, string][]): Headers {
  const headers = new Headers();
  for (const [name, value] of pairs) {
    try {
      headers.append(name, value);
    } catch {
      throw new FrameError(`Rack app returned an invalid header ${JSON.stringify(name)}`);
    }
  }
  return headers;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** One warm-up request, as app.yaml's `capabilities.instaboot.requests` lists them. */
export interface WarmupRequest {
  readonly path: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** What {@linkcode snapshotRackApp} produced. */
export interface RackSnapshot {
  /** The journal bytes (journal/ format). */
  readonly journal: Uint8Array;
  /** Status of each warm-up response, in order. */
  readonly statuses: readonly number[];
  /** Milliseconds: boot, warm-up, capture. */
  readonly phases: { boot: number; warmup: number; capture: number };
}

/**
 * Deploy-time instaboot for a Rack app: boots it, sends the warm-up requests, runs a full GC
 * (so restored instances do not inherit a collection that was due), and captures the journal.
 *
 * @example
 * ```ts ignore
 * const snap = await snapshotRackApp(program, app, [{ path: "/" }, { path: "/api/posts" }]);
 * await Deno.writeFile("bundle/app.journal", snap.journal);
 * ```
 * @throws {RubyError} if the app fails to boot.
 */
export async function snapshotRackApp(
  program: RubyProgram,
  app: RackApp,
  requests: readonly WarmupRequest[],
  opts: InstanceOptions & {
    origin?: string;
    /** Snapshot time recorded for `max_age` (ns since the epoch). @default now */
    snapshotTimeNs?: bigint;
  } = {},
): Promise<RackSnapshot> {
  const t0 = performance.now();
  const instance = await Instance.boot(program, app, opts);
  const t1 = performance.now();
  const runner = createRackRunner(instance);
  const statuses: number[] = [];
  for (const r of requests.length > 0 ? requests : [{ path: "/" }]) {
    const res = await runner.handle(
      new Request(new URL(r.path, opts.origin ?? "http://localhost"), {
        method: r.method ?? "GET",
        headers: r.headers,
        body: r.body,
      }),
    );
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  const t2 = performance.now();
  await instance.evalString('GC.start(full_mark: true, immediate_sweep: true); ""');
  const journal = encodeRubyJournal(instance, {
    configHash: await appHash(app),
    timeNs: opts.snapshotTimeNs ?? BigInt(Date.now()) * 1_000_000n,
  });
  return {
    journal,
    statuses,
    phases: { boot: t1 - t0, warmup: t2 - t1, capture: performance.now() - t2 },
  };
}

/** A restored instance of the profiling variant (see {@linkcode profileRestoredApp}). */
export interface ProfiledRestore {
  /** Serves requests on the restored profiling instance. */
  readonly runner: RackRunner;
  /** The function indices the instance has run since it was restored. */
  functions(): number[];
}

/**
 * Restores `image` into the profiling variant of a prepared module, so that the requests sent
 * to `runner` record which functions a restored instance runs (for
 * {@linkcode withCompilationHints}). Deploy checks its warm-up `expect`s through it.
 *
 * @example
 * ```ts ignore
 * const p = await profileRestoredApp(prepared, app, decodeRubyJournal(journal));
 * await (await p.runner.handle(new Request("http://localhost/"))).arrayBuffer();
 * const hinted = withCompilationHints(prepared, p.functions());
 * ```
 */
export async function profileRestoredApp(
  prepared: Uint8Array,
  app: RackApp,
  image: MemoryImage,
  opts: InstanceOptions = {},
): Promise<ProfiledRestore> {
  const program = await compileRubyProgram(profilingModule(prepared));
  const instance = Instance.restore(program, app, image, opts);
  const profile = instance.exported(PROFILE_EXPORT) as WebAssembly.Memory;
  return { runner: createRackRunner(instance), functions: () => profiledFunctions(profile) };
}

/**
 * Decodes an app's journal once per host process into an image whose bytes live in a
 * `SharedArrayBuffer`. The host posts it to each instance Worker (in `InstanceSpec.journalImage`),
 * which restores from it without reading or decoding the journal itself. The journal is checked
 * against the module (`moduleBytes`, the prepared or restore-only module) and the app package,
 * exactly as a Worker would check it.
 *
 * @example
 * ```ts ignore
 * const image = await decodeSharedJournal(bytes, "bundle/snapshot.journal", "bundle", {});
 * ```
 * @throws {RubyJournalError} when the journal does not apply (the Worker then decodes it itself
 * and reports why).
 */
export async function decodeSharedJournal(
  moduleBytes: Uint8Array,
  journalPath: string,
  appDir: string,
  env: Record<string, string>,
): Promise<MemoryImage> {
  const layout = readLayoutFromBytes(moduleBytes);
  const [app, bytes] = await Promise.all([
    readRackApp(appDir, { env }),
    readWholeFileShared(journalPath),
  ]);
  const moduleHash = new Uint8Array(layout.sourceSha256.match(/../g)!.map((x) => parseInt(x, 16)));
  return decodeRubyJournal(bytes, { moduleHash, configHash: await appHash(app) });
}
