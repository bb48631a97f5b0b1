/**
 * The instance Worker's boot function for proxy and WCGI apps (runtime/instance/worker.ts loads it
 * through `bootUrl`): restore from the app's journal when one is given and it applies, cold-boot
 * otherwise. A refused journal never fails the boot: the reason goes to the log and into the boot
 * phases as `journal_rejected_<reason>` (value 0) so the host can count it in /_thaw/metrics.
 *
 * @example
 * ```ts
 * // Host side: pool options
 * const bootUrl = new URL("../snapshot/boot.ts", import.meta.url).href;
 * ```
 * @module
 */

import { basename } from "node:path";
import { bytesInput, CollectOutput, lineSink } from "../wasi/mod.ts";
import {
  createProxyRunner,
  createWcgiRunner,
  guestConnections,
  type Runner,
  vnetConnection,
} from "../runners/mod.ts";
import type { BootResult, InstanceSpec } from "../instance/mod.ts";
import { acceptJournal, configHash, type RejectReason } from "../../journal/mod.ts";
import type { Guest, GuestConfig, RunOutcome } from "./guest.ts";
import { moduleIdentity, readPrepareInfo } from "./prepare.ts";
import {
  bootInstance,
  createWcgiRestoreRunner,
  type Restored,
  restoreInstance,
  type RestoreSource,
} from "./restore.ts";

/** What {@link bootOrRestore} decided and did. */
export interface BootDecision extends BootResult {
  /** `restore` when the journal was applied. */
  readonly mode: "restore" | "cold";
  /** Why the journal was not applied, when there was one. */
  readonly rejected?: { readonly reason: RejectReason; readonly message: string };
}

/** The guest config of an instance spec. */
export function guestConfigOf(spec: InstanceSpec): GuestConfig {
  return {
    argv0: basename(spec.wasmPath),
    args: spec.args,
    env: spec.env,
    mounts: spec.mounts ?? [],
    hostnames: [spec.name],
  };
}

/** Connections an event-loop guest gets at once (the host sends at most 16 requests per instance). */
async function proxyRunner(
  module: WebAssembly.Module,
  restored: Restored,
  spec: InstanceSpec,
  timeoutMs: number,
): Promise<Runner> {
  const guest: Guest = restored.guest;
  let port = spec.port;
  if (port === undefined) {
    const listeners = guest.net.listeners();
    if (listeners.length > 0) port = listeners[0].address.port;
    else {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const first = await Promise.race([
        guest.net.firstListen(),
        restored.running.then((o: RunOutcome) => {
          throw new Error(`${spec.name}: the guest ended (${JSON.stringify(o)}) before listening`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${spec.name}: no listen within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      port = first.address.port;
    }
  }
  const p = port;
  return createProxyRunner({
    maxConnections: guestConnections(module),
    connect: () => Promise.resolve(vnetConnection(guest.net.connect(p))),
  });
}

function coldWcgiRunner(
  source: Pick<RestoreSource, "module" | "info">,
  config: GuestConfig,
): Runner {
  return createWcgiRunner({
    env: { ...config.env },
    execute: async (run) => {
      const stdout = new CollectOutput();
      const stderr = new CollectOutput();
      const booted = bootInstance(source, config, {
        env: run.env,
        stdin: bytesInput(run.stdin),
        stdout,
        stderr,
      });
      const outcome = await booted.running;
      const exitCode = outcome.kind === "exited" ? outcome.code : 1;
      return { stdout: stdout.bytes(), stderr: stderr.bytes(), exitCode };
    },
  });
}

/** Options of {@link bootOrRestore}. */
export interface BootOrRestoreOptions {
  /** The journal's bytes (instead of reading `spec.journalPath`). */
  readonly journal?: Uint8Array;
  /** Snapshots older than this are refused. */
  readonly maxAgeMs?: number;
  /** Guest stdout/stderr; default "inherit" (the host's log). */
  readonly stdout?: "inherit" | "null" | ((chunk: Uint8Array) => void);
  /** Guest stderr. @default "inherit" */
  readonly stderr?: "inherit" | "null" | ((chunk: Uint8Array) => void);
  /** Milliseconds a cold-booted proxy app has to listen. @default spec.listenTimeoutMs or 10000 */
  readonly listenTimeoutMs?: number;
}

/**
 * Restores the instance from its journal when the journal applies, else cold-boots it. Never
 * throws because of a bad journal; throws only when the cold boot itself fails.
 */
export async function bootOrRestore(
  module: WebAssembly.Module,
  spec: InstanceSpec,
  options: BootOrRestoreOptions = {},
): Promise<BootDecision> {
  const config = guestConfigOf(spec);
  const info = readPrepareInfo(module);
  const io = { stdout: options.stdout ?? "inherit", stderr: options.stderr ?? "inherit" } as const;
  const timeoutMs = options.listenTimeoutMs ?? spec.listenTimeoutMs ?? 10_000;
  let rejected: BootDecision["rejected"];
  const journalBytes = options.journal ??
    (spec.journalPath ? await Deno.readFile(spec.journalPath).catch(() => null) : undefined);
  if (journalBytes === null) {
    rejected = { reason: "unreadable", message: `Cannot read ${spec.journalPath}; cold-booting` };
  } else if (journalBytes !== undefined && info === null) {
    rejected = {
      reason: "module-mismatch",
      message: "The module is not prepared for instaboot; cold-booting",
    };
  } else if (journalBytes !== undefined && info !== null) {
    const t0 = performance.now();
    const verdict = acceptJournal(journalBytes, {
      moduleHash: (await moduleIdentity(module))!,
      configHash: await configHash({
        runner: spec.runner,
        env: spec.env,
        args: spec.args,
        mounts: config.mounts,
      }),
      maxAgeMs: options.maxAgeMs ?? (spec as { maxAgeMs?: number }).maxAgeMs,
    });
    const verifyMs = performance.now() - t0;
    if (!verdict.ok) rejected = { reason: verdict.reason, message: verdict.message };
    else {
      const source: RestoreSource = { module, restoreModule: null, info, records: verdict.records };
      try {
        const t1 = performance.now();
        if (spec.runner === "wcgi") {
          // Prove the journal applies before serving from it; each request restores afresh.
          const probe = restoreInstance(source, config, { stdin: bytesInput(""), ...nullIo });
          probe.running.catch(() => {});
          await probe.resumed;
          return {
            mode: "restore",
            runner: createWcgiRestoreRunner(source, config),
            phases: { restore: performance.now() - t1 + verifyMs, verify: verifyMs },
          };
        }
        const restored = restoreInstance(source, config, io);
        await restored.resumed;
        const runner = await proxyRunner(module, restored, spec, timeoutMs);
        return {
          mode: "restore",
          runner,
          phases: {
            restore: performance.now() - t1 + verifyMs,
            verify: verifyMs,
            ...restored.phases,
          },
          exited: restored.running,
        };
      } catch (e) {
        rejected = {
          reason: "bad-state",
          message: `The journal does not apply to this module: ${(e as Error).message}; ` +
            "cold-booting instead",
        };
      }
    }
  }
  if (rejected !== undefined) console.warn(`${spec.name}: ${rejected.message}`);
  const marks: Record<string, number> = rejected
    ? { [`journal_rejected_${rejected.reason}`]: 0 }
    : {};
  const prepared = info ?? fallbackInfo(module);
  const t2 = performance.now();
  if (spec.runner === "wcgi") {
    return {
      mode: "cold",
      rejected,
      runner: coldWcgiRunner({ module, info: prepared }, config),
      phases: { instantiate: performance.now() - t2, ...marks },
    };
  }
  if (spec.runner !== "proxy") {
    throw new Error(`${spec.name}: the instaboot boot function serves proxy and wcgi apps only`);
  }
  const booted = bootInstance({ module, info: prepared }, config, io);
  const runner = await proxyRunner(module, booted, spec, timeoutMs);
  const total = performance.now() - t2;
  return {
    mode: "cold",
    rejected,
    runner,
    // `listen`: from the instance's creation to the guest's first listen.
    phases: { instantiate: total, listen: total - booted.phases.instantiate, ...marks },
    exited: booted.running,
  };
}

const nullIo = { stdout: "null", stderr: "null" } as const;

/** Prepare info for a module that was never prepared: runs as is, no snapshot support. */
function fallbackInfo(module: WebAssembly.Module): NonNullable<ReturnType<typeof readPrepareInfo>> {
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  return {
    version: 1,
    inputHash: "",
    inputSize: 0,
    asyncify: "none",
    asyncifyImports: [],
    asyncifyMemory: null,
    asyncifyBufferSize: 0,
    globals: [],
    kind: exports.includes("_start") ? "command" : "reactor",
  };
}

/**
 * The Worker's boot function (see runtime/instance/worker.ts `BootFunction`). The host uses it for
 * every proxy and WCGI app, bundle or not, so a plain app's cold boot and a bundle's restore (or
 * fallback cold boot) give the guest the same world: a writable memory `/` with the package
 * mounted read-only.
 */
export async function boot(module: WebAssembly.Module, spec: InstanceSpec): Promise<BootResult> {
  // The guest's output goes to the host's log, each line prefixed with the app's name.
  const log = lineSink((line) => console.error(`[${spec.name}] ${line}`));
  const d = await bootOrRestore(module, spec, { stdout: log, stderr: log });
  return { runner: d.runner, phases: d.phases, exited: d.exited };
}

/** The warm-up guest: a tiny instaboot bundle of Thaw's own, not any app's (see {@link warm}). */
const WARMUP_DIR = new URL("./warmup/", import.meta.url);

/**
 * Warms a blank instance Worker up before any app is given to it: restores the built-in warm-up
 * guest (runtime/snapshot/warmup/: tests/guests/snap_server.c, prepared, with its journal) through
 * {@link bootOrRestore} and sends it one request through the proxy runner, then drops it. The
 * runtime's code has then run once in this isolate, so the app's own restore and first request run
 * compiled JS rather than cold. Nothing of any app is loaded. The worker calls it after importing
 * this module; it resolves to `"restore"` when the warm-up guest's journal applied.
 *
 * @example
 * ```ts ignore
 * const mode = await warm(); // "restore"
 * ```
 */
export async function warm(): Promise<BootDecision["mode"]> {
  const [bytes, journal] = await Promise.all([
    Deno.readFile(new URL("server.wasm", WARMUP_DIR)),
    Deno.readFile(new URL("snapshot.journal", WARMUP_DIR)),
  ]);
  const module = await WebAssembly.compile(bytes);
  const spec: InstanceSpec = {
    name: "thaw-warmup",
    runner: "proxy",
    env: {},
    args: [],
    wasmPath: "server.wasm",
  };
  const d = await bootOrRestore(module, spec, { journal, stdout: "null", stderr: "null" });
  d.exited?.catch(() => {});
  const request = {
    method: "GET",
    url: "http://thaw-warmup.localhost/inc",
    headers: [["host", "thaw-warmup.localhost"]] as [string, string][],
    body: null,
  };
  const res = d.runner.handleRaw
    ? await d.runner.handleRaw(request)
    : await d.runner.handle(new Request(request.url));
  if (res instanceof Response) await res.arrayBuffer();
  return d.mode;
}
