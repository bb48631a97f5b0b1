/**
 * When to snapshot: the capturer's `beforeBlock` hook, following Wasmer's triggers.
 *
 * - `bootstrap` (the default): after the warm-up requests, once the app is idle again in
 *   accept/poll/read. The deploy client tells the policy when a request starts and ends; a block
 *   in accept asked for between requests (or while the client still reads a response) waits for
 *   the client's next move (another request: block; done: unwind), so the snapshot never races
 *   the client reading the last response. A guest that keeps a warm-up connection open waits in
 *   read or poll on it; the client closes its connections after the last warm-up, and the guest's
 *   next idle block is the snapshot point.
 * - `first-listen`: the first time the guest waits in accept/poll after it listened.
 * - `first-stdin`: the first time the guest waits for stdin.
 * - `explicit`: the guest calls `proc_snapshot`.
 * @module
 */

import type { BlockDecision, BlockPoint, BlockReason } from "../wasi/mod.ts";

export type { BlockDecision, BlockPoint, BlockReason };

/** A trigger name as app.yaml spells it. */
export type TriggerName = "bootstrap" | "first-listen" | "first-stdin" | "explicit";

/** Options of {@link SnapshotPolicy}. */
export interface SnapshotPolicyOptions {
  /** Whether the guest has a listening socket now (for `first-listen`). */
  readonly listening?: () => boolean;
}

const IDLE: ReadonlySet<BlockReason> = new Set(["accept", "poll", "read"]);

/**
 * Decides, at each point where the guest would block, whether to snapshot there.
 *
 * @example
 * ```ts
 * const policy = new SnapshotPolicy(["bootstrap"]);
 * proc.beforeBlock = (point) => policy.beforeBlock(point);
 * policy.requestStarted(); await send(request); policy.requestFinished();
 * policy.warmupsDone();
 * const { reason } = await policy.fired;
 * ```
 */
export class SnapshotPolicy {
  #triggers: ReadonlySet<TriggerName>;
  #listening: () => boolean;
  #inFlight = 0;
  #done = false;
  #fired = false;
  #waiting: { point: BlockPoint; resolve: (d: BlockDecision) => void }[] = [];
  #resolveFired!: (p: BlockPoint) => void;
  /** Settles with the block point where the snapshot was taken. */
  readonly fired: Promise<BlockPoint>;

  /** A policy taking the snapshot at whichever of `triggers` comes first. */
  constructor(triggers: readonly TriggerName[], options: SnapshotPolicyOptions = {}) {
    this.#triggers = new Set(triggers);
    this.#listening = options.listening ?? (() => true);
    this.fired = new Promise((resolve) => this.#resolveFired = resolve);
  }

  /** Whether the snapshot was already taken (every later block just blocks). */
  get hasFired(): boolean {
    return this.#fired;
  }

  /** The `beforeBlock` hook. */
  beforeBlock(point: BlockPoint): BlockDecision | Promise<BlockDecision> {
    if (this.#fired) return "block";
    const t = this.#triggers;
    if (point.reason === "explicit") {
      return t.has("explicit") ? this.#fire(point) : "block";
    }
    if (t.has("first-stdin") && point.reason === "stdin") return this.#fire(point);
    if (
      t.has("first-listen") && (point.reason === "accept" || point.reason === "poll") &&
      this.#listening()
    ) {
      return this.#fire(point);
    }
    if (!t.has("bootstrap") || !IDLE.has(point.reason)) return "block";
    if (this.#done && this.#inFlight === 0) return this.#fire(point);
    // Mid-request, a read or poll may wait for the rest of the request: let it. Waiting in
    // accept means the guest is done with the connection: hold it until the client's next move.
    if (this.#inFlight > 0 && point.reason !== "accept") return "block";
    return new Promise((resolve) => this.#waiting.push({ point, resolve }));
  }

  /** The deploy client is about to send a request: let waiting blocks proceed. */
  requestStarted(): void {
    this.#inFlight++;
    this.#release("block");
  }

  /** The deploy client has read and checked a response. */
  requestFinished(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (this.#inFlight === 0 && this.#done) this.#unwindFirstWaiting();
  }

  /** Every warm-up request was sent and checked: snapshot at the next idle block. */
  warmupsDone(): void {
    this.#done = true;
    if (this.#inFlight === 0) this.#unwindFirstWaiting();
  }

  /** Stops waiting: every held block proceeds and no snapshot will be taken. */
  cancel(): void {
    this.#fired = true;
    this.#release("block");
  }

  #fire(point: BlockPoint): BlockDecision {
    this.#fired = true;
    this.#resolveFired(point);
    this.#release("block");
    return "unwind";
  }

  #unwindFirstWaiting(): void {
    const first = this.#waiting.shift();
    if (first === undefined) return;
    this.#fired = true;
    this.#resolveFired(first.point);
    first.resolve("unwind");
    this.#release("block");
  }

  #release(decision: BlockDecision): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.resolve(decision);
  }
}
