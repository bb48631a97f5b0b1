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

import { appHash, encodeRubyJournal } from "./ruby/journal.ts";
import { createRackRunner, type RackRunner } from "./ruby/rack_runner.ts";
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
export {
  createRackRunner,
  encodeRackRequest,
  type RackRunner,
  readRackApp,
  RUBY_BUNDLE_MODULE,
  RUBY_RESTORE_MODULE,
} from "./ruby/rack_runner.ts";
export { RubyError } from "./ruby/abi.ts";
export { GuestAbortedError } from "./ruby/instance.ts";
export { JS_INTEROP_MESSAGE } from "./ruby/js_interop.ts";
export { APP_MOUNT } from "./ruby/prelude.ts";
export {
  type InstanceOptions,
  loadRubyProgram,
  type MemoryImage,
  newMemory,
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
  prepareRubyModule,
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

export { RACK_BOOT_URL } from "./mod.ts";
export { decodeSharedJournal, type SharedRackState } from "./rack_host.ts";

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
