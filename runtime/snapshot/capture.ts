/**
 * Deploy-time capture: boot the app with the snapshot hook installed, send the warm-up requests,
 * and at the trigger read the whole guest into journal records.
 *
 * - Proxy apps (command modules serving HTTP on a virtual port): boot until the first listen, send
 *   the warm-ups through the proxy runner, then unwind at the next idle block (`bootstrap`), or at
 *   the trigger app.yaml names.
 * - WCGI apps: a fresh instance per request, so the snapshot is taken at the first read of stdin
 *   (before the guest has seen any request), and the warm-up requests are then served by instances
 *   restored from that very journal, which checks it end to end. A guest that reads its environment
 *   before its first stdin read cannot be restored: every restored instance would keep the warm-up
 *   request's environment. Deploy refuses it (see docs/instaboot.md).
 * - Reactors (no `_start`): `_initialize` runs and the snapshot is taken with an empty stack.
 * @module
 */

import { CollectOutput, QueueInput } from "../wasi/mod.ts";
import type { JournalRecord } from "../../journal/mod.ts";
import type { HttpRequestSpec } from "../../config/mod.ts";
import { createProxyRunner, type Runner, vnetConnection } from "../runners/mod.ts";
import type { VStream } from "../vnet/mod.ts";
import { Guest, type GuestConfig } from "./guest.ts";
import { captureInstanceImage } from "./instance_image.ts";
import { captureOsState } from "./os_state.ts";
import { moduleIdentity, type PreparedModule } from "./prepare.ts";
import { type BlockPoint, SnapshotPolicy, type TriggerName } from "./trigger.ts";
import { createWcgiRestoreRunner, type RestoreSource } from "./restore.ts";

import { THAW_VERSION } from "../version/mod.ts";
/** The Thaw version written into journals and manifests (runtime/version). */
export { THAW_VERSION };

/**
 * A warm-up request: config's `HttpRequestSpec` (app.yaml `capabilities.instaboot.requests`,
 * normalized). Without `timeoutMs` a request may take 30 s; without `expect` any 2xx or 3xx passes.
 */
export type WarmupRequest = HttpRequestSpec;

/** What capture needs to know of the app (a subset of config's `ResolvedApp`). */
export interface CaptureApp extends GuestConfig {
  /** The app's name, for messages. */
  readonly name: string;
  /** `proxy` or `wcgi` (reactors need no runner to be captured). */
  readonly runner: string;
  /** app.yaml `capabilities.instaboot`, normalized. */
  readonly instaboot?: {
    readonly mode: string;
    readonly triggers: readonly string[];
    readonly requests: readonly WarmupRequest[];
  };
  /** Guest port for proxy apps; the first listen by default. */
  readonly port?: number;
}

/** Options of {@link captureApp}. */
export interface CaptureOptions {
  /** SHA-256 (hex) of the config ({@link configHash}); goes into the identity record. */
  readonly configHash: string;
  /** Called once the app is booted (listening, or at its trigger). */
  readonly onBooted?: (ms: number) => void;
  /** Called after each warm-up request. */
  readonly onRequest?: (r: RequestReport & { index: number; total: number }) => void;
  /** Milliseconds to wait for boot (first listen / first stdin) and for the idle point. */
  readonly timeoutMs?: number;
}

/** The outcome of one warm-up request. */
export interface RequestReport {
  /** The request's method. */
  readonly method: string;
  /** The request's path and query. */
  readonly path: string;
  /** The response status (0 when none came). */
  readonly status: number;
  /** Whether every `expect` check passed. */
  readonly ok: boolean;
  /** The failed check, when one failed. */
  readonly problem?: string;
  /** Milliseconds from sending to the end of the response body. */
  readonly ms: number;
}

/** What {@link captureApp} produced. */
export interface CaptureResult {
  /** The raw (uncompacted) journal records, identity first, snapshot marker last. */
  readonly records: JournalRecord[];
  /** The trigger that fired. */
  readonly trigger: string;
  /** Where the guest was when the snapshot was taken. */
  readonly point: BlockPoint;
  /** The warm-up requests and their results. */
  readonly warmup: (RequestReport & { ms: number })[];
  /** Milliseconds per phase: boot, warmup, capture. */
  readonly timings: Record<string, number>;
  /** Random bytes drawn and clock reads made during boot (frozen into every restore). */
  readonly bootFacts: { randomBytes: number; clockReads: number };
  /** Caveats to show the user. */
  readonly warnings: string[];
  /** What the guest wrote to stdout and stderr during capture. */
  readonly output: { stdout: string; stderr: string };
}

/** Capture failed; the message says why and what to change. */
export class CaptureError extends Error {
  /** Creates the error; the message names the app, the problem and the fix. */
  constructor(message: string) {
    super(message);
    this.name = "CaptureError";
  }
}

function hexBytes(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CaptureError(what)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Checks a response against a warm-up request's `expect`; returns the problem or undefined. */
export function checkExpect(req: WarmupRequest, status: number, body: string): string | undefined {
  const e = req.expect;
  if (e?.statusCodes !== undefined) {
    if (!e.statusCodes.includes(status)) {
      return `status ${status}, expected ${e.statusCodes.join(" or ")}`;
    }
  } else if (status < 200 || status >= 400) return `status ${status}`;
  if (e?.bodyIncludes !== undefined && !body.includes(e.bodyIncludes)) {
    return `body does not include ${JSON.stringify(e.bodyIncludes)}`;
  }
  if (e?.bodyRegex !== undefined && !new RegExp(e.bodyRegex).test(body)) {
    return `body does not match /${e.bodyRegex}/`;
  }
  return undefined;
}

/** Builds the fetch Request for a warm-up spec. */
export function warmupRequest(req: WarmupRequest, host = "localhost"): Request {
  return new Request(`http://${host}${req.path}`, {
    method: req.method,
    headers: [...req.headers] as [string, string][],
    body: req.body !== undefined && req.method !== "GET" && req.method !== "HEAD"
      ? req.body
      : undefined,
  });
}

async function sendWarmups(
  runner: Runner,
  requests: readonly WarmupRequest[],
  options: CaptureOptions,
  around: { before?: () => void; after?: () => void } = {},
): Promise<(RequestReport & { ms: number })[]> {
  const reports: (RequestReport & { ms: number })[] = [];
  for (const [index, spec] of requests.entries()) {
    around.before?.();
    const t0 = performance.now();
    let status = 0;
    let problem: string | undefined;
    try {
      const res = await timeout(
        runner.handle(warmupRequest(spec)),
        spec.timeoutMs ?? options.timeoutMs ?? 30_000,
        `warm-up ${spec.method} ${spec.path} timed out`,
      );
      status = res.status;
      problem = checkExpect(spec, status, await res.text());
    } catch (e) {
      problem = (e as Error).message;
    }
    around.after?.();
    const report = {
      method: spec.method,
      path: spec.path,
      status,
      ok: problem === undefined,
      problem,
      ms: performance.now() - t0,
    };
    reports.push(report);
    options.onRequest?.({ ...report, index, total: requests.length });
    if (problem !== undefined) {
      throw new CaptureError(
        `warm-up request ${index + 1} (${spec.method} ${spec.path}) failed: ${problem}; fix the ` +
          "app or its capabilities.instaboot.requests[].expect",
      );
    }
  }
  return reports;
}

function triggersOf(app: CaptureApp): TriggerName[] {
  const ib = app.instaboot;
  if (ib === undefined) return ["bootstrap"];
  const list = ib.triggers.length > 0 ? ib.triggers : [ib.mode];
  return list as TriggerName[];
}

/**
 * Boots, warms up and captures an app. The prepared module must come from {@link prepareModule}.
 *
 * @throws {CaptureError} when the app does not boot, a warm-up fails, or the app never reaches a
 *   point where it can be snapshotted.
 * @example
 * ```ts
 * const result = await captureApp(app, prepared, { configHash });
 * await writeJournalFile("app.journal", result.records);
 * ```
 */
export async function captureApp(
  app: CaptureApp,
  prepared: PreparedModule,
  options: CaptureOptions,
): Promise<CaptureResult> {
  const module = await WebAssembly.compile(prepared.bytes as Uint8Array<ArrayBuffer>);
  const info = prepared.info;
  const stdout = new CollectOutput();
  const stderr = new CollectOutput();
  const output = () => ({ stdout: stdout.text(), stderr: stderr.text() });
  const limit = options.timeoutMs ?? 30_000;
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const wcgi = app.runner === "wcgi";
  const triggers = wcgi ? ["first-stdin" as const] : triggersOf(app);
  if (wcgi && app.instaboot?.mode !== "first-stdin") {
    warnings.push(
      "WCGI apps are snapshotted at their first read of stdin (mode first-stdin), whatever the mode",
    );
  }
  if (info.kind === "command" && info.asyncify !== "added") {
    throw new CaptureError(
      `${app.name}: the module cannot unwind inside a syscall (asyncify ${info.asyncify}); ` +
        "only reactors can be snapshotted without asyncify",
    );
  }

  let guest: Guest | null = null;
  const policy = new SnapshotPolicy(triggers, {
    listening: () => (guest?.net.listeners().length ?? 0) > 0,
  });
  const stdin = new QueueInput();
  const t0 = performance.now();
  try {
    guest = Guest.create(module, info, app, {
      stdout,
      stderr,
      stdin: wcgi ? stdin : "null",
      hook: (p) => policy.beforeBlock(p),
    });
  } catch (e) {
    throw new CaptureError(`${app.name}: the module does not instantiate: ${(e as Error).message}`);
  }
  const g: Guest = guest;

  let point: BlockPoint;
  let rewindData: Uint8Array | undefined;
  let entry = "_start";
  let warmup: (RequestReport & { ms: number })[] = [];
  if (info.kind === "reactor") {
    entry = "_initialize";
    const outcome = await g.run("_initialize").catch((e) => {
      throw new CaptureError(`${app.name}: _initialize failed: ${(e as Error).message}`);
    });
    if (outcome.kind !== "exited" || outcome.code !== 0) {
      throw new CaptureError(
        `${app.name}: _initialize did not return normally\n${output().stderr}`,
      );
    }
    timings.boot = performance.now() - t0;
    options.onBooted?.(timings.boot);
    point = { syscall: "_initialize", reason: "explicit" };
  } else {
    const run = g.run("_start");
    const ended = run.then((o) => o, (e) => ({ kind: "crashed" as const, error: e as Error }));
    const failed = (what: string) => async () => {
      const o = await ended;
      const why = o.kind === "exited"
        ? `exited with code ${o.code}`
        : o.kind === "crashed"
        ? `crashed: ${o.error.message}`
        : "";
      if (o.kind === "unwound") return;
      if (o.kind === "crashed" && g.asyncify?.state === "unwinding") {
        throw new CaptureError(
          `${app.name}: the guest's stack at the snapshot point did not fit the asyncify buffer ` +
            `(${info.asyncifyBufferSize} bytes); prepare with a larger asyncifyPages`,
        );
      }
      throw new CaptureError(
        `${app.name}: the guest ${why} ${what}\n${output().stderr}`.trimEnd(),
      );
    };
    if (wcgi || !triggers.includes("bootstrap")) {
      // Only the trigger (first-stdin, first-listen or explicit) ends the boot.
      const o = await timeout(ended, limit, `${app.name}: no snapshot trigger within ${limit} ms`);
      if (o.kind !== "unwound") {
        await failed(`before the snapshot trigger (${triggers.join(", ")})`)();
      }
      timings.boot = performance.now() - t0;
      options.onBooted?.(timings.boot);
    } else {
      const listened = g.net.firstListen();
      const first = await timeout(
        Promise.race([listened, ended]),
        limit,
        `${app.name}: the guest did not listen within ${limit} ms`,
      );
      if (!("address" in first)) await failed("before it listened on a port")();
      const port = app.port ?? (first as { address: { port: number } }).address.port;
      timings.boot = performance.now() - t0;
      options.onBooted?.(timings.boot);
      const streams: VStream[] = [];
      const runner = createProxyRunner({
        connect: () => {
          const s = g.net.connect(port);
          streams.push(s);
          return Promise.resolve(vnetConnection(s));
        },
      });
      const t1 = performance.now();
      try {
        warmup = await sendWarmups(runner, app.instaboot?.requests ?? [], options, {
          before: () => policy.requestStarted(),
          after: () => policy.requestFinished(),
        });
      } catch (e) {
        policy.cancel();
        throw e;
      }
      timings.warmup = performance.now() - t1;
      policy.warmupsDone();
      // A guest waiting on a kept-alive warm-up connection wakes up and goes idle again.
      for (const s of streams) s.close();
      const o = await timeout(
        ended,
        limit,
        `${app.name}: the app did not go idle (accept/poll/read) within ${limit} ms after warm-up`,
      );
      if (o.kind !== "unwound") await failed("before it went idle after the warm-up requests")();
    }
    point = await policy.fired;
    rewindData = g.asyncify!.finishUnwind();
  }

  const t2 = performance.now();
  if (wcgi && g.envReads > 0) {
    throw new CaptureError(
      `${app.name}: the WCGI guest read its environment before its first read of stdin, so a ` +
        "snapshot would carry the warm-up request's environment into every request; read stdin " +
        "before calling getenv (see docs/instaboot.md, WCGI), or remove capabilities.instaboot",
    );
  }
  const os = captureOsState(g);
  warnings.push(...os.warnings);
  const bootFacts = { randomBytes: g.proc.randomBytesDrawn, clockReads: g.proc.clockReads };
  if (bootFacts.randomBytes > 0) {
    warnings.push(
      `The guest drew ${bootFacts.randomBytes} random bytes during boot: whatever it derived from ` +
        "them (seeds, keys, ids) is the same in every restored instance. Reseed in an exported " +
        "thaw_after_restore (docs/instaboot.md)",
    );
  }
  if (bootFacts.clockReads > 0) {
    warnings.push(
      `The guest read the clock ${bootFacts.clockReads} times during boot: times it kept are ` +
        "frozen into every restored instance",
    );
  }
  const records: JournalRecord[] = [
    {
      kind: "identity",
      moduleHash: hexBytes((await moduleIdentity(module))!),
      configHash: hexBytes(options.configHash),
      formatVersion: 1,
      thawVersion: THAW_VERSION,
    },
    ...captureInstanceImage(g.instance, info, { rewindData, entry }),
    ...os.records,
    { kind: "fact.env", args: [...g.proc.args], env: [...g.proc.env] },
    {
      kind: "snapshot",
      trigger: point.reason,
      timeNs: BigInt(Date.now()) * 1_000_000n,
    },
  ];
  timings.capture = performance.now() - t2;

  if (wcgi) {
    // Serve the warm-up requests from the journal just captured: proof that it restores.
    const source: RestoreSource = { module, restoreModule: null, info, records };
    const runner = createWcgiRestoreRunner(source, app);
    const t3 = performance.now();
    warmup = await sendWarmups(runner, app.instaboot?.requests ?? [], options);
    timings.warmup = performance.now() - t3;
  }
  return {
    records,
    trigger: triggers.join("|"),
    point,
    warmup,
    timings,
    bootFacts,
    warnings,
    output: output(),
  };
}
