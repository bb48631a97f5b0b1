/**
 * Instance pools: per-app sets of instance Workers, bounded by the app's scaling config, plus
 * an app-agnostic supply of pre-spawned blank Workers (a spawn costs about 12 ms).
 *
 * An {@linkcode AppPool} sends each request to a warm instance when it can, and scales out in
 * the background; a request waits for a cold start only when no instance is warm. Idle
 * instances stop after `idleTimeoutMs` (scale to zero). A request that runs past
 * `requestTimeoutMs` kills its instance (504); a crash or trap kills it too (502). Either way
 * the next request gets a fresh instance.
 *
 * @example
 * ```ts ignore
 * import { AppPool, WorkerSpawner } from "./pool.ts";
 * const spawner = new WorkerSpawner({ prespawn: 2 });
 * const pool = new AppPool({ spec, module, spawner, maxInstances: 2 });
 * const res = await pool.dispatch({ method: "GET", url: "http://a.localhost/", headers: [], body: null });
 * ```
 *
 * @module
 */

import { requestHead } from "../runners/mod.ts";
import { decodeResponseHead, encodeRequestHead, Ring } from "./ring.ts";
import type { HostToWorker, InstanceSpec, WorkerToHost } from "./worker.ts";

/** Deno permissions for an instance Worker: `"none"` unless the app mounts host directories. */
export type InstancePermissions = "none" | Deno.PermissionOptionsObject;

/** Options for {@linkcode WorkerSpawner}. */
export interface WorkerSpawnerOptions {
  /**
   * How many blank Workers (with no permissions) to keep ready.
   * @default {2}
   */
  prespawn?: number;
  /** The Worker script. @default {the bundled worker.ts} */
  workerUrl?: URL;
}

interface Blank {
  worker: Worker;
  ready: Promise<void>;
}

interface Reserve {
  permissions: InstancePermissions;
  bootUrl?: string;
  target: number;
  blanks: Blank[];
}

function keyOf(permissions: InstancePermissions, bootUrl?: string): string {
  return `${JSON.stringify(permissions)}|${bootUrl ?? ""}`;
}

/** How long after handing out a blank Worker the spawner starts its replacement. */
const REFILL_DELAY_MS = 50;

/**
 * Spawns instance Workers and keeps a few blank ones ready, so that a cold start skips the
 * Worker spawn. Blank Workers are kept per permission set and boot module: an app whose Workers
 * need read access or a custom boot function reserves its own ({@linkcode WorkerSpawner.reserve}),
 * and those blanks have already imported the boot module.
 */
export class WorkerSpawner {
  #url: URL;
  #reserves = new Map<string, Reserve>();
  #closed = false;

  /** Starts pre-spawning blank Workers with no permissions. */
  constructor(options: WorkerSpawnerOptions = {}) {
    this.#url = options.workerUrl ?? new URL("./worker.ts", import.meta.url);
    this.reserve("none", undefined, options.prespawn ?? 2);
  }

  /**
   * Keeps `count` blank Workers with these permissions (and `bootUrl` already imported) ready.
   * Raising a count never lowers it.
   */
  reserve(permissions: InstancePermissions, bootUrl?: string, count = 1): void {
    const key = keyOf(permissions, bootUrl);
    const reserve = this.#reserves.get(key);
    if (reserve) reserve.target = Math.max(reserve.target, count);
    else this.#reserves.set(key, { permissions, bootUrl, target: count, blanks: [] });
    this.#refill(key);
  }

  /** `warm`: let the Worker run its boot module's warm-up (only for blanks kept in reserve). */
  #spawn(permissions: InstancePermissions, bootUrl?: string, warm = false): Blank {
    const worker = new Worker(this.#url, {
      type: "module",
      name: "thaw-instance",
      // deno-lint-ignore no-explicit-any
      deno: { permissions } as any,
    });
    const ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<WorkerToHost>) => {
        if (e.data.t === "blank") {
          if (!bootUrl) return resolve();
          const preload: HostToWorker = { t: "preload", url: bootUrl, warm };
          worker.postMessage(preload);
        } else if (e.data.t === "preloaded") resolve();
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`Instance Worker failed to start: ${e.message}`));
      };
    });
    ready.catch(() => worker.terminate());
    return { worker, ready };
  }

  #refill(key: string) {
    const reserve = this.#reserves.get(key);
    if (!reserve) return;
    while (!this.#closed && reserve.blanks.length < reserve.target) {
      reserve.blanks.push(this.#spawn(reserve.permissions, reserve.bootUrl, true));
    }
  }

  /** Hands out a Worker that has loaded (and imported `bootUrl`) and waits for `init`. */
  async take(
    permissions: InstancePermissions = "none",
    bootUrl?: string,
  ): Promise<{ worker: Worker; spawnMs: number }> {
    const start = performance.now();
    const key = keyOf(permissions, bootUrl);
    let blank = this.#reserves.get(key)?.blanks.shift();
    // Refill a little later: `new Worker` blocks this thread for 10-20 ms and the new Worker's
    // imports take a core for 30-60 ms, which must not slow the cold start that took this blank
    // (its restore and first request take 15-40 ms).
    if (blank) setTimeout(() => this.#refill(key), REFILL_DELAY_MS);
    // A Worker spawned for a waiting cold start skips the warm-up: it would only delay it.
    blank ??= this.#spawn(permissions, bootUrl);
    await blank.ready;
    return { worker: blank.worker, spawnMs: performance.now() - start };
  }

  /** Terminates the blank Workers and stops pre-spawning. */
  close(): void {
    this.#closed = true;
    for (const reserve of this.#reserves.values()) {
      for (const blank of reserve.blanks) blank.worker.terminate();
      reserve.blanks = [];
    }
  }
}

/** A request as posted to an instance Worker. */
export interface PoolRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: ArrayBuffer | null;
}

/** An instance's answer, with the timings for Server-Timing. */
export interface PoolResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  /** The body: whole (bytes, or text when it was plain ASCII), streamed, or absent. */
  body: Uint8Array | string | ReadableStream<Uint8Array> | null;
  /** True when this request waited for a new instance to boot. */
  cold: boolean;
  /** Boot phases this request waited for (empty when warm), in milliseconds. */
  phases: Record<string, number>;
  /** Milliseconds the runner took to produce the response head. */
  execute: number;
}

/** Why a request failed without an answer from the guest. */
export type FailureReason = "timeout" | "crash" | "boot" | "overload" | "closed" | "guest";

/**
 * A request that an instance could not answer. `status` is what the client gets.
 *
 * @example
 * ```ts
 * import { InstanceError } from "./pool.ts";
 * const err = new InstanceError(504, "timeout", "The request ran past 1000 ms");
 * console.assert(err.status === 504);
 * ```
 */
export class InstanceError extends Error {
  /** Creates the error. */
  constructor(
    /** HTTP status for the client. */
    readonly status: number,
    /** Machine-readable cause. */
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
    this.name = "InstanceError";
  }
}

/** Callbacks for metrics and logs. */
export interface PoolEvents {
  /** A new instance finished booting (or failed to). */
  coldStart?(ms: number, phases: Record<string, number>, ok: boolean): void;
  /** The number of live instances changed. */
  instances?(count: number): void;
  /** An instance was stopped. */
  stopped?(reason: "timeout" | "crash" | "idle" | "boot" | "shutdown", message: string): void;
}

/** Options for {@linkcode AppPool}. */
export interface AppPoolOptions {
  /** What each instance boots. */
  spec: InstanceSpec;
  /** The compiled module, compiled once per process and posted to every instance. */
  module: WebAssembly.Module;
  /** Where Workers come from. */
  spawner: WorkerSpawner;
  /** Instances kept even when idle. @default {0} */
  minInstances?: number;
  /** Upper bound on instances. @default {2} */
  maxInstances?: number;
  /** Requests in flight per instance before another is used or the request queues. @default {16} */
  maxInflight?: number;
  /** Requests allowed to wait when every instance is full; more get a 503. @default {1024} */
  maxQueue?: number;
  /** Idle time after which an instance stops. @default {300000} */
  idleTimeoutMs?: number;
  /** Execution limit per request; past it the instance is killed and the client gets 504. @default {30000} */
  requestTimeoutMs?: number;
  /** Time an instance may take to boot before it counts as failed. @default {30000} */
  bootTimeoutMs?: number;
  /** Boot module URL, for custom boot functions (tests, restore). */
  bootUrl?: string;
  /** Worker permissions. @default {"none"} */
  permissions?: InstancePermissions;
  /** Metrics hooks. */
  events?: PoolEvents;
}

interface Pending {
  resolve(res: PoolResponse): void;
  reject(err: Error): void;
  controller?: ReadableStreamDefaultController<Uint8Array>;
  /** performance.now() past which the request has run over its limit. */
  deadline: number;
  cold: boolean;
}

let nextInstanceId = 0;

class Instance {
  readonly id = ++nextInstanceId;
  state: "booting" | "ready" | "dead" = "booting";
  readonly pending = new Map<number, Pending>();
  phases: Record<string, number> = {};
  /** Its runner takes requests encoded as HTTP/1.1 (see `WorkerToHost` "ready"). */
  wire = false;
  ready: Promise<void>;
  /** performance.now() when the last request finished, for scale to zero. */
  idleSince = performance.now();
  worker: Worker | undefined;
  readonly toWorker: Ring;
  readonly toHost: Ring;
  readonly ringBuffers: [SharedArrayBuffer, SharedArrayBuffer];
  #markReady!: () => void;
  #failBoot!: (err: Error) => void;

  constructor() {
    this.ready = new Promise((resolve, reject) => {
      this.#markReady = resolve;
      this.#failBoot = reject;
    });
    this.ready.catch(() => {});
    this.ringBuffers = [Ring.allocate(), Ring.allocate()];
    this.toWorker = new Ring(this.ringBuffers[0]);
    this.toHost = new Ring(this.ringBuffers[1]);
  }

  booted(phases: Record<string, number>, wire: boolean) {
    this.phases = phases;
    this.wire = wire;
    this.state = "ready";
    this.#markReady();
  }

  bootFailed(err: Error) {
    this.#failBoot(err);
  }
}

let nextRequestId = 0;

/** The phases of a warm request: none (shared, never written). */
const NO_PHASES: Record<string, number> = Object.freeze({});

/** A bounded, self-healing, scale-to-zero set of instances of one app. */
export class AppPool {
  readonly #o: Required<Omit<AppPoolOptions, "bootUrl" | "events">> & {
    bootUrl?: string;
    events: PoolEvents;
  };
  #instances: Instance[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;
  #drained: (() => void) | undefined;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /** Creates the pool and boots `minInstances` instances. */
  constructor(options: AppPoolOptions) {
    this.#o = {
      minInstances: 0,
      maxInstances: 2,
      maxInflight: 16,
      maxQueue: 1024,
      idleTimeoutMs: 300_000,
      requestTimeoutMs: 30_000,
      bootTimeoutMs: 30_000,
      permissions: "none",
      events: {},
      ...options,
    };
    for (let i = 0; i < this.#o.minInstances; i++) this.#spawn();
  }

  /** Live (booting or ready) instances. */
  get size(): number {
    return this.#instances.length;
  }

  /** Requests in flight across instances. */
  get inflight(): number {
    let n = 0;
    for (const inst of this.#instances) n += inst.pending.size;
    return n;
  }

  /** Requests waiting for an instance slot. */
  get queued(): number {
    return this.#waiters.length;
  }

  /**
   * One timer per pool, not one per request: it enforces the execution limit and scale to
   * zero. It runs only while the pool has instances.
   */
  #startSweeper() {
    if (this.#sweeper !== undefined) return;
    const every = Math.max(
      5,
      Math.min(250, this.#o.requestTimeoutMs / 10, this.#o.idleTimeoutMs / 4),
    );
    this.#sweeper = setInterval(() => this.#sweep(), every);
  }

  #stopSweeperIfIdle() {
    if (this.#instances.length === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #sweep() {
    const now = performance.now();
    for (const inst of [...this.#instances]) {
      for (const [id, p] of inst.pending) {
        if (now > p.deadline) {
          this.#kill(
            inst,
            "timeout",
            `The request ran past the ${this.#o.requestTimeoutMs} ms execution limit`,
            id,
          );
          break;
        }
      }
      if (
        inst.state === "ready" && inst.pending.size === 0 &&
        now - inst.idleSince >= this.#o.idleTimeoutMs &&
        this.#instances.length > this.#o.minInstances
      ) {
        this.#kill(inst, "idle", "Idle");
      }
    }
  }

  #spawn(): Instance {
    const inst = new Instance();
    this.#instances.push(inst);
    this.#startSweeper();
    this.#o.events.instances?.(this.#instances.length);
    const start = performance.now();
    (async () => {
      const { worker, spawnMs } = await this.#o.spawner.take(
        this.#o.permissions,
        this.#o.bootUrl,
      );
      if (inst.state === "dead") return worker.terminate();
      inst.worker = worker;
      worker.onmessage = (e: MessageEvent<WorkerToHost>) => this.#onMessage(inst, e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        this.#kill(inst, "crash", `The instance crashed: ${e.message}`);
      };
      worker.onmessageerror = () =>
        this.#kill(inst, "crash", "The instance sent an unreadable message");
      const init: HostToWorker = {
        t: "init",
        module: this.#o.module,
        spec: this.#o.spec,
        bootUrl: this.#o.bootUrl,
        rings: inst.ringBuffers,
      };
      worker.postMessage(init);
      // While requests are in flight the ring is polled for a while before it parks, so the
      // Worker need not wake this thread for each batch of answers.
      inst.toHost.consume((head, body) => {
        // A complete response comes as a compact text head; anything else as JSON.
        if (typeof head === "string") {
          const res = decodeResponseHead(head);
          this.#onResponse(inst, res, res.text ?? body, true);
        } else this.#onMessage(inst, { ...(head as WorkerToHost), body } as WorkerToHost);
      }, () => inst.pending.size > 0);
      let bootTimer: ReturnType<typeof setTimeout> | undefined;
      const bootLimit = new Promise<never>((_, reject) => {
        bootTimer = setTimeout(
          () => reject(new Error(`The instance did not boot within ${this.#o.bootTimeoutMs} ms`)),
          this.#o.bootTimeoutMs,
        );
      });
      try {
        await Promise.race([inst.ready, bootLimit]);
      } finally {
        clearTimeout(bootTimer);
      }
      const phases = { worker: spawnMs, ...inst.phases };
      inst.phases = phases;
      inst.idleSince = performance.now();
      this.#o.events.coldStart?.(performance.now() - start, phases, true);
    })().catch((err) => {
      this.#o.events.coldStart?.(performance.now() - start, {}, false);
      this.#kill(inst, "boot", err instanceof Error ? err.message : String(err));
    });
    return inst;
  }

  #onMessage(inst: Instance, m: WorkerToHost) {
    switch (m.t) {
      case "ready":
        inst.booted(m.phases, m.wire === true);
        return;
      case "boot-error":
        inst.bootFailed(new Error(m.message));
        return;
      case "fatal":
        this.#kill(inst, "crash", m.message);
        return;
      case "res":
        this.#onResponse(inst, m, m.body, m.end);
        return;
      case "chunk":
        try {
          inst.pending.get(m.id)?.controller?.enqueue(m.data);
        } catch { /* the client went away */ }
        return;
      case "end": {
        const p = inst.pending.get(m.id);
        this.#finish(inst, m.id);
        try {
          p?.controller?.close();
        } catch { /* the client went away */ }
        return;
      }
      case "err": {
        const p = inst.pending.get(m.id);
        if (!p) return;
        this.#finish(inst, m.id);
        const err = new InstanceError(m.status, "guest", m.message);
        if (p.controller) p.controller.error(err);
        else p.reject(err);
        return;
      }
    }
  }

  #onResponse(
    inst: Instance,
    m: {
      id: number;
      status: number;
      statusText: string;
      headers: [string, string][];
      exec: number;
    },
    whole: Uint8Array | string | null,
    end: boolean,
  ) {
    const p = inst.pending.get(m.id);
    if (!p) return;
    let body: PoolResponse["body"] = whole;
    if (!end) {
      body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          p.controller = controller;
        },
      });
    } else this.#finish(inst, m.id);
    p.resolve({
      status: m.status,
      statusText: m.statusText,
      headers: m.headers,
      body,
      cold: p.cold,
      phases: p.cold ? inst.phases : NO_PHASES,
      execute: m.exec,
    });
  }

  #finish(inst: Instance, id: number) {
    if (!inst.pending.delete(id)) return;
    if (inst.pending.size === 0) {
      inst.idleSince = performance.now();
      if (this.#closed && inst.state !== "dead") this.#kill(inst, "shutdown", "Shut down");
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter();
  }

  #kill(
    inst: Instance,
    reason: "timeout" | "crash" | "idle" | "boot" | "shutdown",
    message: string,
    culprit?: number,
  ) {
    if (inst.state === "dead") return;
    inst.state = "dead";
    inst.worker?.terminate();
    inst.toWorker.close();
    inst.toHost.close();
    inst.bootFailed(new InstanceError(502, "boot", message));
    this.#instances = this.#instances.filter((i) => i !== inst);
    this.#o.events.instances?.(this.#instances.length);
    this.#o.events.stopped?.(reason, message);
    for (const [id, p] of inst.pending) {
      const err = id === culprit
        ? new InstanceError(504, "timeout", message)
        : reason === "timeout"
        ? new InstanceError(503, "crash", `The instance was stopped: ${message}`)
        : new InstanceError(502, reason === "boot" ? "boot" : "crash", message);
      if (p.controller) p.controller.error(err);
      else p.reject(err);
    }
    inst.pending.clear();
    for (const waiter of this.#waiters.splice(0)) waiter();
    if (!this.#closed && this.#instances.length < this.#o.minInstances) this.#spawn();
    this.#stopSweeperIfIdle();
    if (this.#closed && this.#instances.length === 0) this.#drained?.();
  }

  #pick(): Instance | undefined {
    let best: Instance | undefined;
    for (const inst of this.#instances) {
      if (inst.state !== "ready" || inst.pending.size >= this.#o.maxInflight) continue;
      if (!best || inst.pending.size < best.pending.size) best = inst;
    }
    return best;
  }

  /**
   * Sends a request to an instance.
   *
   * @throws {InstanceError} 504 past the time limit, 502 on a crash or boot failure, 503 when
   * overloaded or shutting down, or the guest's own status when the runner failed.
   */
  dispatch(request: PoolRequest): Promise<PoolResponse> {
    // The common case, a warm instance with room, without the slow path's async machinery.
    if (!this.#closed) {
      const warm = this.#pick();
      if (warm) {
        this.#scaleOutIfBusy(warm);
        return this.#send(warm, request, false);
      }
    }
    return this.#dispatchSlow(request);
  }

  /** Scales out in the background when every warm instance is already busy. */
  #scaleOutIfBusy(warm: Instance) {
    if (warm.pending.size > 0 && this.#instances.length < this.#o.maxInstances) {
      if (!this.#instances.some((i) => i.state === "booting")) this.#spawn();
    }
  }

  async #dispatchSlow(request: PoolRequest): Promise<PoolResponse> {
    while (true) {
      if (this.#closed) throw new InstanceError(503, "closed", "The server is shutting down");
      const warm = this.#pick();
      if (warm) {
        this.#scaleOutIfBusy(warm);
        return this.#send(warm, request, false);
      }
      const booting = this.#instances.find((i) =>
        i.state === "booting" && i.pending.size < this.#o.maxInflight
      );
      if (booting || this.#instances.length < this.#o.maxInstances) {
        const inst = booting ?? this.#spawn();
        try {
          await inst.ready;
        } catch (err) {
          if (err instanceof InstanceError) throw err;
          throw new InstanceError(502, "boot", (err as Error).message);
        }
        if (inst.state !== "ready") continue;
        if (inst.pending.size >= this.#o.maxInflight) continue;
        return this.#send(inst, request, booting === undefined);
      }
      if (this.#waiters.length >= this.#o.maxQueue) {
        throw new InstanceError(503, "overload", "Too many requests are waiting for this app");
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #send(inst: Instance, request: PoolRequest, cold: boolean): Promise<PoolResponse> {
    const id = ++nextRequestId;
    return new Promise<PoolResponse>((resolve, reject) => {
      const deadline = performance.now() + this.#o.requestTimeoutMs;
      inst.pending.set(id, { resolve, reject, deadline, cold });
      const { method, url, headers, body } = request;
      const bytes = body ? new Uint8Array(body) : null;
      let sent: boolean;
      if (inst.wire) {
        // Encoded once, here: the Worker hands these bytes to the guest as they are.
        const head = requestHead(method, url, headers, bytes?.length ?? 0);
        sent = inst.toWorker.tryWriteBytes(id, head, bytes);
      } else {
        const head = encodeRequestHead(id, method, url, headers);
        sent = head === null
          ? inst.toWorker.tryWrite({ t: "req", id, method, url, headers }, bytes)
          : inst.toWorker.tryWriteText(head, bytes);
      }
      if (!sent) {
        const message: HostToWorker = { t: "req", id, method, url, headers, body };
        inst.worker!.postMessage(message, body ? [body] : []);
      }
    });
  }

  /** Stops taking requests, lets in-flight ones finish, then stops every instance. */
  async close(graceMs = 10_000): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter();
    for (const inst of [...this.#instances]) {
      if (inst.pending.size === 0) this.#kill(inst, "shutdown", "Shut down");
    }
    if (this.#instances.length === 0) return;
    const drained = new Promise<void>((resolve) => this.#drained = resolve);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([drained, late]);
    clearTimeout(timer);
    for (const inst of [...this.#instances]) this.#kill(inst, "shutdown", "Shut down");
  }
}
