/**
 * Restore: a new instance from the restore variant of the prepared module and a journal's
 * committed records: memory, globals, fs, fds and sockets, then `thaw_after_restore` (when the
 * guest exports it) and a rewind, so the guest resumes inside the syscall it was waiting in.
 *
 * Fresh entropy: the new process draws `random_get` from the host's CSPRNG, so anything the guest
 * draws after restore differs per instance; what it drew during boot is frozen in the snapshot (the
 * SnapStart caveat), which is what `thaw_after_restore` is for.
 * @module
 */

import type { JournalRecord } from "../../journal/mod.ts";
import { bytesInput, CollectOutput } from "../wasi/mod.ts";
import { createWcgiRunner, type Runner } from "../runners/mod.ts";
import { Guest, type GuestConfig, type GuestOptions, type RunOutcome } from "./guest.ts";
import {
  applyGlobals,
  applyMemoryImage,
  flatMemoryImage,
  type InstanceImage,
  instanceImageOf,
} from "./instance_image.ts";
import { applyOsState } from "./os_state.ts";
import { type PrepareInfo, readPrepareInfo, restoreVariant } from "./prepare.ts";

/** Name of the optional guest export called after state is restored, before the rewind. */
export const AFTER_RESTORE_EXPORT = "thaw_after_restore";

/** Everything restore needs, prepared once per process and reused for every instance. */
export interface RestoreSource {
  /** The prepared module (cold boots use it). */
  readonly module: WebAssembly.Module;
  /**
   * The restore variant (no active data). When null, restore instantiates `module` and zeroes its
   * initial memory before writing the image (cheap for small initial memories).
   */
  readonly restoreModule: WebAssembly.Module | null;
  /** What prepare did to the module. */
  readonly info: PrepareInfo;
  /** The journal's committed records (accepted by `acceptJournal`). */
  readonly records: readonly JournalRecord[];
}

/**
 * Compiles both modules of a restore source from the prepared module's bytes.
 *
 * @throws {Error} when the bytes are not a prepared module.
 */
export async function restoreSourceOf(
  preparedBytes: Uint8Array,
  records: readonly JournalRecord[],
): Promise<RestoreSource> {
  const info = readPrepareInfo(preparedBytes);
  if (info === null) {
    throw new Error("The module was not prepared for instaboot (no thaw.prepare section)");
  }
  const [module, restoreModule] = await Promise.all([
    WebAssembly.compile(preparedBytes as Uint8Array<ArrayBuffer>),
    WebAssembly.compile(restoreVariant(preparedBytes) as Uint8Array<ArrayBuffer>),
  ]);
  return { module, restoreModule, info, records };
}

interface Decoded {
  image: InstanceImage;
  /** The memory decoded into one flat buffer, built on the second restore from the records. */
  flat?: Uint8Array;
}
const decoded = new WeakMap<readonly JournalRecord[], Decoded>();

/**
 * The journal's Wasm state for one more restore. The first restore from a record list decodes the
 * memory runs straight into the instance; a second one decodes them once into a flat image that it
 * and every later restore copy (one copy instead of a decompression each).
 */
function decodedImage(records: readonly JournalRecord[]): Decoded {
  const d = decoded.get(records);
  if (d === undefined) {
    const first = { image: instanceImageOf(records) };
    decoded.set(records, first);
    return first;
  }
  d.flat ??= flatMemoryImage(d.image);
  return d;
}

/** A restored instance, running. */
export interface Restored {
  /** The instance. */
  readonly guest: Guest;
  /** Settles when the guest's entry export returns (never, for a server). */
  readonly running: Promise<RunOutcome>;
  /**
   * Resolves once the guest is back inside the syscall it was snapshotted in (at once for a
   * reactor or a cold boot); rejects when the rewind failed (the guest trapped or exited first).
   */
  readonly resumed: Promise<void>;
  /** Milliseconds per restore phase. */
  readonly phases: Record<string, number>;
}

/**
 * Restores one instance. The guest is running (resumed inside its syscall) when this returns.
 *
 * @throws {Error} when the journal does not fit the module (callers cold-boot instead).
 * @example
 * ```ts
 * const { guest, running } = restoreInstance(source, config, { stdout: "inherit" });
 * ```
 */
export function restoreInstance(
  source: RestoreSource,
  config: GuestConfig,
  options: GuestOptions = {},
): Restored {
  const phases: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    phases[name] = now - t;
    t = now;
  };
  const { image, flat } = decodedImage(source.records);
  const module = source.restoreModule ?? source.module;
  const guest = Guest.create(module, source.info, config, options);
  lap("instantiate");
  applyMemoryImage(guest.instance.exports.memory as WebAssembly.Memory, image, {
    clear: source.restoreModule === null,
    flat,
  });
  lap("memory");
  applyGlobals(guest.instance, source.info, image);
  applyOsState(guest, source.records);
  lap("state");
  const after = guest.instance.exports[AFTER_RESTORE_EXPORT];
  const thread = image.thread !== null && image.thread.rewindData.length > 0 ? image.thread : null;
  if (thread !== null && guest.asyncify === null) {
    throw new Error("The journal holds a stack to rewind but the module is not asyncified");
  }
  let back!: () => void;
  const rewound = new Promise<void>((resolve) => back = resolve);
  // Through JSPI (proc.call): the hook may write a log line, and fd_write may suspend.
  const running = (async (): Promise<RunOutcome> => {
    if (typeof after === "function") await guest.proc.call(after as () => unknown);
    if (thread === null) return { kind: "exited", code: 0 };
    guest.asyncify!.startRewind(thread.rewindData, () => back());
    return await guest.run(thread.entry);
  })();
  // A reactor, snapshotted with an empty stack, is ready once its state is in place.
  const resumed = thread === null ? running.then(() => {}) : Promise.race([
    rewound,
    running.then((o) => {
      throw new Error(`The guest ended (${JSON.stringify(o)}) before it resumed`);
    }),
  ]);
  lap("rewind");
  return { guest, running, resumed, phases };
}

/**
 * Cold-boots one instance from the prepared module (the fallback when no journal applies).
 */
export function bootInstance(
  source: Pick<RestoreSource, "module" | "info">,
  config: GuestConfig,
  options: GuestOptions = {},
): Restored {
  const t = performance.now();
  const guest = Guest.create(source.module, source.info, config, options);
  const phases = { instantiate: performance.now() - t };
  const running = source.info.kind === "command" ? guest.run("_start") : guest.run("_initialize");
  return { guest, running, resumed: Promise.resolve(), phases };
}

/**
 * A WCGI runner whose every request runs in an instance restored from the journal, with the
 * request's environment and body. The snapshot was taken before the guest read its environment,
 * so `environ_get` answers from the new request.
 */
export function createWcgiRestoreRunner(source: RestoreSource, config: GuestConfig): Runner {
  return createWcgiRunner({
    env: { ...config.env },
    execute: async (run) => {
      const stdout = new CollectOutput();
      const stderr = new CollectOutput();
      const restored = restoreInstance(source, config, {
        env: run.env,
        stdin: bytesInput(run.stdin),
        stdout,
        stderr,
      });
      const outcome = await restored.running;
      const exitCode = outcome.kind === "exited" ? outcome.code : 1;
      return { stdout: stdout.bytes(), stderr: stderr.bytes(), exitCode };
    },
  });
}
