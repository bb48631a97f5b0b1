/**
 * The instance Worker's boot function for `runner: rack` apps (pass this module's URL as the
 * Worker's `bootUrl`; rack.ts exports it as `RACK_BOOT_URL`).
 *
 * The host compiles the *prepared* module once per process (`prepareRubyModule`) and posts
 * it; the app package is the spec's `/app` mount. With a journal that applies the instance is
 * restored; without one, or when the journal is refused (damaged, of another module or app
 * version, older than `max_age`, or not fitting the module), Ruby boots from scratch. A refused
 * journal never fails the boot: the reason goes to the log and into the boot phases as
 * `journal_rejected_<reason>` (value 0), the same marks the snapshot engine's boot function
 * sets, so the host can count them.
 *
 * @example
 * ```ts ignore
 * const d = await bootOrRestoreRack(module, spec);
 * if (d.rejected) console.warn(d.rejected.reason, d.rejected.message);
 * ```
 * @module
 */

import type { BootResult, InstanceSpec } from "../../instance/mod.ts";
import { APP_MOUNT } from "./prelude.ts";
import {
  loadRubyProgram,
  type MemoryImage,
  RubyInstance,
  type RubyProgram,
  rubyProgramFromModule,
} from "./instance.ts";
import { limitMemory } from "../../host/limits.ts";
import type { RubyJournalRejectReason } from "./journal.ts";
import type { RackApp } from "./instance.ts";
import { readWholeFile } from "./read_file.ts";
// Static imports: a host that pre-imports this module in blank Workers gets the runner loaded
// before the first cold request.
import { createRackRunner, readRackApp } from "./rack_runner.ts";

/**
 * The journal codec, loaded only when this Worker must read a journal itself: with the image the
 * host decoded once per process (`InstanceSpec.journalImage`), a restore needs none of it, and a
 * blank Worker skips loading it (and Node's zlib with it).
 */
let journalCodec: Promise<typeof import("./journal.ts")> | undefined;
function codec(): Promise<typeof import("./journal.ts")> {
  return journalCodec ??= import("./journal.ts");
}

/**
 * Pages of the blank memory a reserve Worker faults in ahead of its first instance ({@link warm}):
 * 72 MiB, the size class of a booted ruby.wasm (the blog's restored memory is 1,126 pages).
 */
export const SPARE_PAGES = 1152;

/** A blank memory this Worker made before it knew its app, faulted in by {@link warm}. */
let spare: WebAssembly.Memory | undefined;

/** Pages {@link warm} faults in per slice before it lets the Worker's event loop run. */
const WARM_SLICE_PAGES = 64;

/**
 * The app-agnostic warm-up of a reserve Worker (the instance layer calls it after importing this
 * module): makes one blank memory of {@link SPARE_PAGES} and faults it in, so that the first
 * restore copies its image into touched pages (2-3 ms for 24 MB) instead of faulting them in
 * (15-30 ms). The memory holds no app's data; the instance that takes it is the only one to use it.
 *
 * It resolves at once and faults the memory in 4 MiB slices on later tasks: an `init` that comes
 * meanwhile (a cold request at process start) takes the memory as far as it got, and the rest is
 * faulted in as the image is copied, instead of waiting 15-50 ms for the whole warm-up.
 *
 * @example
 * ```ts ignore
 * await warm(); // then init restores into the spare memory
 * ```
 */
export function warm(): Promise<void> {
  if (spare !== undefined) return Promise.resolve();
  const memory = new WebAssembly.Memory({ initial: SPARE_PAGES });
  spare = memory;
  const words = new Int32Array(memory.buffer);
  const slice = WARM_SLICE_PAGES * 16384;
  let at = 0;
  const step = () => {
    // Stop once an instance took the memory (or a grow detached this view).
    if (spare !== memory || words.length === 0) return;
    const end = Math.min(words.length, at + slice);
    // One write per 4 KiB page faults it in; the memory stays all zero.
    for (let i = at; i < end; i += 1024) words[i] = 0;
    at = end;
    if (at < words.length) setTimeout(step, 0);
  };
  step();
  return Promise.resolve();
}

/** The spare memory when it fits the module (no declared maximum), once. */
function takeSpare(program: RubyProgram): WebAssembly.Memory | undefined {
  if (program.layout.memoryMaxPages !== undefined) return undefined;
  const memory = spare;
  spare = undefined;
  return memory;
}

/** The decoded image of the last journal this Worker read, keyed by path and file identity. */
let cached: { key: string; image: MemoryImage } | undefined;

/** The app of `spec`: the files the host read with the journal image, else its `/app` mount. */
function readApp(spec: InstanceSpec): Promise<RackApp> {
  if (spec.appFiles !== undefined && spec.journalImage !== undefined) {
    return Promise.resolve({ files: spec.appFiles, entry: "app.rb", env: spec.env });
  }
  const mount = spec.mounts?.find((m) => m.guest === APP_MOUNT);
  if (!mount) {
    throw new Error(
      `${spec.name}: a rack app needs its package mounted at ${APP_MOUNT}; add ` +
        `[fs] "${APP_MOUNT}" = "." to its wasmer.toml`,
    );
  }
  return readRackApp(mount.host, { env: spec.env });
}

/** What {@linkcode bootOrRestoreRack} decided and did. */
export interface RackBootDecision extends BootResult {
  /** `restore` when the journal was applied, `cold` when Ruby booted from scratch. */
  readonly mode: "restore" | "cold";
  /** Why the journal was not applied, when there was one. */
  readonly rejected?: { readonly reason: RubyJournalRejectReason; readonly message: string };
}

/** Options of {@linkcode bootOrRestoreRack}. */
export interface RackBootOptions {
  /** The journal's bytes (instead of reading `spec.journalPath`). */
  readonly journal?: Uint8Array;
  /** Snapshots older than this are refused (app.yaml `max_age`). @default spec.maxAgeMs */
  readonly maxAgeMs?: number;
  /** Current time in ms since the epoch, for `maxAgeMs`. @default Date.now() */
  readonly now?: number;
  /** Where log lines go. @default console.error, prefixed with the app's name */
  readonly log?: (line: string) => void;
}

async function fileKey(path: string): Promise<string | null> {
  try {
    const st = await Deno.stat(path);
    return `${path}\0${st.size}\0${st.mtime?.getTime() ?? 0}`;
  } catch {
    return null;
  }
}

/**
 * Restores one Ruby instance from its journal when the journal applies, else boots Ruby from
 * scratch. Never throws because of a bad journal; throws only when the cold boot itself fails
 * (or the spec has no `/app` mount).
 */
export async function bootOrRestoreRack(
  module: WebAssembly.Module,
  spec: InstanceSpec,
  options: RackBootOptions = {},
): Promise<RackBootDecision> {
  const program = rubyProgramFromModule(module);
  const app = await readApp(spec);
  const log = options.log ?? ((line: string) => console.error(`[${spec.name}] ${line}`));
  const maxAgeMs = options.maxAgeMs ?? (spec as { maxAgeMs?: number }).maxAgeMs;
  let rejected: RackBootDecision["rejected"];
  if (options.journal !== undefined || spec.journalPath) {
    const t0 = performance.now();
    try {
      let image: MemoryImage;
      const shared = options.journal === undefined
        ? spec.journalImage as MemoryImage | undefined
        : undefined;
      const key = options.journal === undefined && shared === undefined
        ? await fileKey(spec.journalPath!)
        : null;
      if (shared !== undefined) {
        // Decoded and checked by the host, once per process (decodeSharedJournal).
        image = shared;
      } else if (key !== null && cached?.key === key) {
        image = cached.image;
      } else {
        const j = await codec();
        let bytes = options.journal;
        if (bytes === undefined) {
          try {
            bytes = await readWholeFile(spec.journalPath!);
          } catch (e) {
            throw new j.RubyJournalError(
              `Cannot read the journal ${spec.journalPath}: ${(e as Error).message}`,
              "unreadable",
              { cause: e },
            );
          }
        }
        image = j.decodeRubyJournal(bytes, {
          moduleHash: j.moduleHash(program),
          configHash: await j.appHash(app),
        });
        if (key !== null) cached = { key, image };
      }
      // Checked on every start (the cached image is kept across it), as time moves on.
      if (maxAgeMs !== undefined) await checkAge(image, maxAgeMs, options.now);
      const decode = performance.now() - t0;
      const instance = RubyInstance.restore(program, app, image, {
        log,
        memory: takeSpare(program),
      });
      return {
        mode: "restore",
        runner: createRackRunner(instance),
        phases: {
          decode,
          memory: instance.phases.memory,
          restore: instance.phases.memory + instance.phases.instantiate,
        },
      };
    } catch (e) {
      rejected = e instanceof (await codec()).RubyJournalError
        ? { reason: e.reason, message: `${e.message}; cold-booting instead` }
        : {
          reason: "bad-state",
          message: `The journal does not apply to this module: ${(e as Error).message}; ` +
            "cold-booting instead",
        };
      log(rejected.message);
    }
  }
  // The host compiled the restore-only variant for a bundle with a journal; a cold boot needs the
  // full module, read and compiled here.
  const t0 = performance.now();
  const full = program.layout.restoreOnly ? await fullProgram(spec) : program;
  const load = performance.now() - t0;
  const instance = await RubyInstance.boot(full, app, { log });
  const phases: Record<string, number> = {
    ...(full === program ? {} : { load }),
    instantiate: instance.phases.instantiate,
    boot: instance.phases.init,
  };
  if (rejected) phases[`journal_rejected_${rejected.reason}`] = 0;
  return { mode: "cold", rejected, runner: createRackRunner(instance), phases };
}

/** The full prepared module of the spec (`wasmPath`), with the app's memory limit applied. */
async function fullProgram(spec: InstanceSpec): Promise<RubyProgram> {
  let bytes: Uint8Array = await readWholeFile(spec.wasmPath);
  if (spec.memoryLimitBytes !== undefined) bytes = limitMemory(bytes, spec.memoryLimitBytes);
  const program = await loadRubyProgram(bytes);
  if (program.layout.restoreOnly) {
    throw new Error(`${spec.wasmPath} is a restore-only module; redeploy the app to rebuild it`);
  }
  return program;
}

/** Refuses an image older than `maxAgeMs` (the snapshot engine's rule and message). */
async function checkAge(image: MemoryImage, maxAgeMs: number, now = Date.now()): Promise<void> {
  // The common case, a young enough snapshot, loads nothing.
  if (now - Number((image.snapshotTimeNs ?? 0n) / 1_000_000n) <= maxAgeMs) return;
  const { checkMaxAge } = await import("../../../journal/mod.ts");
  const old = checkMaxAge(image.snapshotTimeNs ?? 0n, maxAgeMs, now);
  if (old) throw new (await codec()).RubyJournalError(old.problem, old.reason);
}

/** Boots or restores one Ruby instance and returns its Rack runner (the Worker's `BootFunction`). */
export async function boot(module: WebAssembly.Module, spec: InstanceSpec): Promise<BootResult> {
  const d = await bootOrRestoreRack(module, spec);
  return { runner: d.runner, phases: d.phases };
}
