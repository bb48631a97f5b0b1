/**
 * The on-disk form of a Ruby snapshot, in Thaw's journal format (journal/): identity, memory
 * size, memory runs, the mutable globals, the boot argv/env, and the snapshot marker.
 *
 * A Ruby reactor is captured between requests with an empty stack, so there is no asyncify
 * data and no `thread.state` record. Its WASI state is rebuilt the same way on every start
 * (fd 0/1/2 are the runner's channels, fd 3 the read-only `/app` mount); capture checks that
 * the app left nothing else open.
 *
 * @module
 */

import {
  captureMemoryRuns,
  encodeJournal,
  type GlobalValue,
  type JournalRecord,
  type MemoryCodec,
  memoryImage,
  type MemoryRunRecord,
} from "../../../journal/mod.ts";
import { checkJournal, type RejectReason } from "../../../journal/mod.ts";
import { THAW_VERSION } from "../../version/mod.ts";
import { concatBytes } from "../../wasm_binary/mod.ts";
import type { MemoryImage, RackApp, RubyInstance, RubyProgram } from "./instance.ts";
import { RUBY_ARGS } from "./prelude.ts";

/** The fds every start recreates: request, response, log, and the `/app` preopen. */
const STANDARD_FDS = [0, 1, 2, 3];

/**
 * Why a journal was not applied: the snapshot engine's `RejectReason`, decided by its
 * `checkJournal`. The host counts the boot phase `journal_rejected_<reason>` in /_thaw/metrics.
 */
export type RubyJournalRejectReason = RejectReason;

/** A journal that does not belong to this module or app, or lacks what restore needs. */
export class RubyJournalError extends Error {
  /** Why, as a stable name (see {@linkcode RubyJournalRejectReason}). */
  readonly reason: RubyJournalRejectReason;
  constructor(
    message: string,
    reason: RubyJournalRejectReason = "bad-state",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "RubyJournalError";
    this.reason = reason;
  }
}

async function sha256(parts: Uint8Array[]): Promise<Uint8Array> {
  const all = concatBytes(parts) as Uint8Array<ArrayBuffer>;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

/** SHA-256 of the app's package and settings: the journal's `configHash`. */
export function appHash(app: RackApp): Promise<Uint8Array> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [enc.encode(`entry=${app.entry ?? "app.rb"}\0`)];
  for (const [k, v] of Object.entries(app.env ?? {}).sort()) parts.push(enc.encode(`${k}=${v}\0`));
  for (const path of [...app.files.keys()].sort()) {
    const bytes = app.files.get(path)!;
    parts.push(enc.encode(`${path}\0${bytes.length}\0`), bytes);
  }
  return sha256(parts);
}

/**
 * The journal's `moduleHash` for a program: the SHA-256 its `thaw.prepared` section records
 * (of the original module, from which the prepared bytes follow deterministically).
 */
export function moduleHash(program: Pick<RubyProgram, "layout">): Uint8Array {
  const h = program.layout.sourceSha256;
  return new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));
}

/** Options for {@linkcode encodeRubyJournal}. */
export interface EncodeOptions {
  /** The app's {@linkcode appHash}. */
  readonly configHash: Uint8Array;
  /** Codec of the memory runs. @default "none" */
  readonly codec?: Exclude<MemoryCodec, "zero">;
  /**
   * Snapshot time (ns since the epoch) for the `snapshot` record, which `max_age` is checked
   * against. @default 0n (deterministic bytes; such a journal is too old for any `max_age`)
   */
  readonly timeNs?: bigint;
}

const GLOBAL_TYPE: Record<number, "i32" | "i64" | "f32" | "f64"> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
};

/**
 * Captures a live instance (between requests) into journal bytes. Deterministic: the same
 * memory and options give the same bytes (the snapshot time is `opts.timeNs`, default 0).
 */
export function encodeRubyJournal(instance: RubyInstance, opts: EncodeOptions): Uint8Array {
  const fds = instance.openFds();
  if (fds.join(",") !== STANDARD_FDS.join(",")) {
    throw new RubyJournalError(
      `Cannot snapshot: the app left fds ${fds.filter((fd) => fd > 3).join(", ")} open; ` +
        "restore recreates only stdio and /app, so close files (File.open with a block) at boot",
    );
  }
  const image = instance.capture();
  const memory = new Uint8Array(instance.memory.buffer);
  const typeOf = new Map(
    instance.program.layout.globals.map((g) => [g.index, GLOBAL_TYPE[g.type]]),
  );
  const globals = image.globals.map((g): GlobalValue => {
    const type = typeOf.get(g.index) ?? "i32";
    return type === "i64"
      ? { index: g.index, type, value: BigInt(g.value) }
      : { index: g.index, type, value: Number(g.value) };
  });
  const records: JournalRecord[] = [
    {
      kind: "identity",
      moduleHash: moduleHash(instance.program),
      configHash: opts.configHash,
      formatVersion: 1,
      thawVersion: THAW_VERSION,
    },
    { kind: "fact.env", args: [...RUBY_ARGS], env: [] },
    { kind: "memory.size", memoryIndex: 0, pages: image.pages },
    ...captureMemoryRuns(memory, { codec: opts.codec ?? "none" }),
    { kind: "globals", globals },
    { kind: "snapshot", trigger: "explicit", timeNs: opts.timeNs ?? 0n },
  ];
  return encodeJournal(records);
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** What {@linkcode decodeRubyJournal} checks the journal against. */
export interface DecodeOptions {
  /** Refuse a journal captured from another module. */
  readonly moduleHash?: Uint8Array;
  /** Refuse a journal captured from another app package. */
  readonly configHash?: Uint8Array;
  /** Refuse a snapshot older than this (app.yaml `max_age`), in milliseconds. */
  readonly maxAgeMs?: number;
  /** Current time in ms since the epoch, for `maxAgeMs`. @default Date.now() */
  readonly now?: number;
}

/**
 * Decodes a journal once into a ready {@linkcode MemoryImage}: the non-zero runs as byte views
 * (into the journal bytes for raw runs, into one decompressed buffer otherwise), so each restore
 * is plain copies.
 *
 * @throws {RubyJournalError} if the journal cannot be applied; its `reason` says why
 * (`unreadable` for damaged or truncated bytes, `module-mismatch`, `config-mismatch`,
 * `too-old`, ...).
 */
export function decodeRubyJournal(bytes: Uint8Array, opts: DecodeOptions = {}): MemoryImage {
  const verdict = checkJournal(bytes, {
    moduleHash: opts.moduleHash && hex(opts.moduleHash),
    configHash: opts.configHash && hex(opts.configHash),
    maxAgeMs: opts.maxAgeMs,
    now: opts.now,
  });
  if (!verdict.ok) throw new RubyJournalError(verdict.problem, verdict.reason);
  const committed = verdict.records;
  const snapshot = verdict.snapshot;
  const size = committed.findLast((r) => r.kind === "memory.size" && r.memoryIndex === 0);
  const globals = committed.findLast((r) => r.kind === "globals");
  if (!size || size.kind !== "memory.size" || !globals || globals.kind !== "globals") {
    throw new RubyJournalError("The journal lacks its memory.size or globals record", "bad-state");
  }
  const runs = committed.filter((r): r is MemoryRunRecord =>
    r.kind === "memory.run" && r.memoryIndex === 0
  );
  const spans: { offset: number; bytes: Uint8Array }[] = [];
  if (runs.every((r) => r.codec === "none" || r.codec === "zero")) {
    // Stored raw: copy straight from the journal bytes, no intermediate image.
    for (const r of runs) if (r.codec === "none") spans.push({ offset: r.offset, bytes: r.data });
  } else {
    const flat = memoryImage(runs, size.pages * 65536);
    // Neighbouring runs become one copy.
    for (const r of [...runs].sort((a, b) => a.offset - b.offset)) {
      if (r.codec === "zero") continue;
      const last = spans.at(-1);
      if (last && last.offset + last.bytes.length === r.offset) {
        spans[spans.length - 1] = {
          offset: last.offset,
          bytes: flat.subarray(last.offset, r.offset + r.byteLength),
        };
      } else {
        spans.push({ offset: r.offset, bytes: flat.subarray(r.offset, r.offset + r.byteLength) });
      }
    }
  }
  return {
    pages: size.pages,
    runs: spans,
    globals: globals.globals.map((g) => ({ index: g.index, value: g.value })),
    snapshotTimeNs: snapshot.timeNs,
  };
}
