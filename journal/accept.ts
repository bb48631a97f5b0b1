/**
 * Whether a journal may be applied: it must read cleanly, end in a snapshot, and belong to this
 * module and this config, and be younger than `max_age`. Anything else means a cold boot, with a
 * reason the host logs and counts.
 * @module
 */

import { readJournal } from "./decode.ts";
import { JournalError } from "./errors.ts";
import type { IdentityRecord, JournalRecord, SnapshotRecord } from "./records.ts";

/** Why a journal was not applied. Stable names: the host counts them in /_thaw/metrics. */
export type RejectReason =
  | "unreadable"
  | "no-snapshot"
  | "no-identity"
  | "module-mismatch"
  | "config-mismatch"
  | "too-old"
  | "bad-state";

/** Every {@link RejectReason}, for metrics. */
export const REJECT_REASONS: readonly RejectReason[] = [
  "unreadable",
  "no-snapshot",
  "no-identity",
  "module-mismatch",
  "config-mismatch",
  "too-old",
  "bad-state",
];

/** A journal that may be restored. */
export interface AcceptedJournal {
  /** Always true: the journal may be applied. */
  readonly ok: true;
  /** The committed records (up to and including the last snapshot marker). */
  readonly records: readonly JournalRecord[];
  /** The identity record (first). */
  readonly identity: IdentityRecord;
  /** The last snapshot marker. */
  readonly snapshot: SnapshotRecord;
}

/** A journal that must not be restored. */
export interface RejectedJournal {
  /** Always false: cold-boot instead. */
  readonly ok: false;
  /** Why, as a stable name. */
  readonly reason: RejectReason;
  /** One line for the log, saying what was wrong and what happens instead. */
  readonly message: string;
  /** What was wrong, without what happens instead (for callers that do something else). */
  readonly problem: string;
}

/**
 * What a journal is checked against. A hash left out is not checked: only for callers that hold
 * a journal they just captured themselves (deploy); a host always passes both
 * ({@link AcceptOptions}).
 */
export interface JournalChecks {
  /** Identity of the module that will be instantiated, hex (`moduleIdentity`). */
  readonly moduleHash?: string;
  /** SHA-256 (hex) of the app's config ({@link configHash}). */
  readonly configHash?: string;
  /** Maximum age of the snapshot, from app.yaml `max_age`. */
  readonly maxAgeMs?: number;
  /** Current time in ms since the epoch. @default Date.now() */
  readonly now?: number;
}

/** What the journal must match. */
export interface AcceptOptions extends JournalChecks {
  /** Identity of the prepared module that will be instantiated (`moduleIdentity`). */
  readonly moduleHash: string;
  /** SHA-256 (hex) of the app's config ({@link configHash}). */
  readonly configHash: string;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function reject(reason: RejectReason, problem: string): RejectedJournal {
  return { ok: false, reason, problem, message: `${problem}; cold-booting instead` };
}

/**
 * The `too-old` rejection when a snapshot taken at `snapshotTimeNs` is older than `maxAgeMs`, else
 * undefined. For callers that keep a decoded journal across starts and recheck its age.
 *
 * @example
 * ```ts
 * const old = checkMaxAge(0n, 86_400_000);
 * console.log(old?.reason); // "too-old"
 * ```
 */
export function checkMaxAge(
  snapshotTimeNs: bigint,
  maxAgeMs: number,
  now: number = Date.now(),
): RejectedJournal | undefined {
  const ageMs = now - Number(snapshotTimeNs / 1_000_000n);
  if (ageMs <= maxAgeMs) return undefined;
  return reject(
    "too-old",
    `The snapshot is ${Math.round(ageMs / 1000)} s old, older than max_age (${
      Math.round(maxAgeMs / 1000)
    } s)`,
  );
}

/**
 * Checks a journal's bytes against the module and config about to run. Never throws for bad
 * input.
 *
 * @example
 * ```ts
 * const verdict = acceptJournal(bytes, { moduleHash, configHash, maxAgeMs: 86_400_000 });
 * if (!verdict.ok) console.warn(verdict.reason, verdict.message);
 * ```
 */
export function acceptJournal(
  bytes: Uint8Array,
  options: AcceptOptions,
): AcceptedJournal | RejectedJournal {
  return checkJournal(bytes, options);
}

/**
 * {@link acceptJournal} with every check optional ({@link JournalChecks}): the one definition of
 * when a journal is refused and why, shared by the Ruby runner. Never throws for bad input.
 *
 * @example
 * ```ts
 * const verdict = checkJournal(bytes, {});
 * if (verdict.ok) console.log(verdict.records.length);
 * ```
 */
export function checkJournal(
  bytes: Uint8Array,
  checks: JournalChecks,
): AcceptedJournal | RejectedJournal {
  let committed: readonly JournalRecord[];
  try {
    committed = readJournal(bytes).committed;
  } catch (e) {
    if (e instanceof JournalError || e instanceof RangeError) {
      return reject("unreadable", `The journal is damaged: ${e.message}`);
    }
    throw e;
  }
  const first = committed[0];
  if (committed.length === 0) {
    return reject("no-snapshot", "The journal holds no complete snapshot (no snapshot marker)");
  }
  if (first.kind !== "identity") {
    return reject("no-identity", "The journal does not start with an identity record");
  }
  if (checks.moduleHash !== undefined && hex(first.moduleHash) !== checks.moduleHash) {
    return reject(
      "module-mismatch",
      `The journal was captured from another module (${hex(first.moduleHash).slice(0, 12)}…, ` +
        `this one is ${checks.moduleHash.slice(0, 12)}…; redeploy to rebuild it)`,
    );
  }
  if (checks.configHash !== undefined && hex(first.configHash) !== checks.configHash) {
    return reject(
      "config-mismatch",
      "The journal was captured from a different version of the app's config or files " +
        "(redeploy to rebuild it)",
    );
  }
  const snapshot = committed[committed.length - 1] as SnapshotRecord;
  if (checks.maxAgeMs !== undefined) {
    const old = checkMaxAge(snapshot.timeNs, checks.maxAgeMs, checks.now);
    if (old) return old;
  }
  return { ok: true, records: committed, identity: first, snapshot };
}

/**
 * The config fields a snapshot depends on; change any and old journals no longer apply. They are
 * the ones an instance Worker is given (its `InstanceSpec`), so the Worker can check them itself.
 */
export interface ConfigIdentity {
  /** The runner kind (`proxy`, `wcgi`, ...). */
  readonly runner: string;
  /** The guest's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** The guest's arguments after argv[0]. */
  readonly args: readonly string[];
  /** The package mounts; only their guest paths count. */
  readonly mounts: readonly { readonly guest: string }[];
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * SHA-256 (hex) of the config fields a snapshot depends on, in canonical JSON.
 *
 * @example
 * ```ts
 * const hash = await configHash({ runner: "proxy", env: {}, args: [], mounts: [] });
 * ```
 */
export async function configHash(config: ConfigIdentity): Promise<string> {
  const picked = {
    runner: config.runner,
    env: config.env,
    args: config.args,
    mounts: config.mounts.map((m) => m.guest),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(canonical(picked)));
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** Picks the {@link ConfigIdentity} fields of a resolved app (config's `ResolvedApp`). */
export function configIdentityOf(app: ConfigIdentity): ConfigIdentity {
  return {
    runner: app.runner,
    env: app.env,
    args: app.args,
    mounts: app.mounts.map((m) => ({ guest: m.guest })),
  };
}
