/**
 * Compaction: the smallest record list that folds to the same state.
 *
 * @module
 */

import { splitAtLastSnapshot } from "./decode.ts";
import type { FactRandomRecord, GlobalValue, JournalRecord } from "./records.ts";

/** Options of {@link compactRecords}. */
export interface CompactOptions {
  /**
   * Keep the records after the last snapshot marker (uncompacted). By default they are dropped:
   * restore never applies them.
   * @default {false}
   */
  readonly keepPending?: boolean;
}

/** Fd-lifetime records that compaction may drop along with an open/close pair. */
const FD_LOCAL = new Set(["fd.seek", "fd.set_flags", "sock.bind", "sock.listen", "sock.connected"]);
const FS_NAMESPACE = new Set([
  "fs.mkdir",
  "fs.rmdir",
  "fs.unlink",
  "fs.rename",
  "fs.link",
  "fs.symlink",
]);

function fdsOf(r: JournalRecord): number[] {
  switch (r.kind) {
    case "fd.open":
    case "fd.close":
    case "fd.seek":
    case "fd.set_flags":
    case "sock.open":
    case "sock.bind":
    case "sock.listen":
    case "sock.connected":
      return [r.fd];
    case "fd.renumber":
      return [r.from, r.to];
    case "fd.dup":
      return [r.fd, r.newFd];
    default:
      return [];
  }
}

/** Marks fds opened then closed with no lasting effect (no dup or renumber in between). */
function dropDeadFds(records: readonly JournalRecord[], drop: Uint8Array): void {
  const byFd = new Map<number, number[]>();
  records.forEach((r, i) => {
    for (const fd of fdsOf(r)) {
      const l = byFd.get(fd) ?? [];
      l.push(i);
      byFd.set(fd, l);
    }
  });
  for (const [fd, idx] of byFd) {
    for (let k = 0; k < idx.length; k++) {
      const open = records[idx[k]];
      if (open.kind !== "fd.open" && open.kind !== "sock.open") continue;
      // Only a pair on a closed fd is without effect: an open replaces an fd that was open.
      const before = k > 0 ? records[idx[k - 1]] : undefined;
      if (before !== undefined && !(before.kind === "fd.close" && before.fd === fd)) continue;
      let j = k + 1;
      while (j < idx.length && FD_LOCAL.has(records[idx[j]].kind)) j++;
      const end = records[idx[j]];
      if (end === undefined || end.kind !== "fd.close" || end.fd !== fd) continue;
      for (let m = k; m <= j; m++) drop[idx[m]] = 1;
      k = j;
    }
  }
}

/**
 * Marks fs.write records whose bytes later writes to the same path overwrite or a later
 * truncation cuts off, and writes and truncations of a path that a later unlink removes (when the
 * journal makes no hard links, so the file has no other name).
 */
function dropOverwrittenWrites(records: readonly JournalRecord[], drop: Uint8Array): void {
  const linkFree = !records.some((r) => r.kind === "fs.link");
  // Walk backwards; per path, the ranges later writes cover. A namespace change anywhere, or a
  // set_times on the path, ends the window (the path may then name another file).
  let covered = new Map<string, [number, number][]>();
  let doomed = new Set<string>();
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (FS_NAMESPACE.has(r.kind)) {
      covered = new Map();
      doomed = new Set();
      if (r.kind === "fs.unlink" && linkFree) doomed.add(r.path);
    } else if (r.kind === "fs.set_times") {
      // Kept even when doomed: if the path is a directory, the unlink does nothing.
      covered.delete(r.path);
    } else if (r.kind === "fs.truncate") {
      if (doomed.has(r.path)) {
        drop[i] = 1;
      } else {
        // Bytes at or past a truncation no longer depend on earlier writes.
        const ranges = covered.get(r.path) ?? [];
        covered.set(r.path, addRange(ranges, r.size, Number.MAX_SAFE_INTEGER));
      }
    } else if (r.kind === "fs.write") {
      const ranges = covered.get(r.path);
      const start = r.offset, end = r.offset + r.data.length;
      if (doomed.has(r.path) || (ranges !== undefined && isCovered(ranges, start, end))) {
        drop[i] = 1;
      } else if (r.data.length > 0) {
        covered.set(r.path, addRange(ranges ?? [], start, end));
      }
    }
  }
}

function isCovered(ranges: readonly [number, number][], start: number, end: number): boolean {
  if (start === end) return true;
  for (const [s, e] of ranges) if (s <= start && end <= e) return true;
  return false;
}

/** Adds `[start, end)` to sorted disjoint ranges, merging overlapping and adjacent ones. */
function addRange(ranges: [number, number][], start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  let s = start, e = end;
  for (const [a, b] of ranges) {
    if (b < s || a > e) out.push([a, b]);
    else {
      s = Math.min(s, a);
      e = Math.max(e, b);
    }
  }
  out.push([s, e]);
  return out.sort((x, y) => x[0] - y[0]);
}

/** Marks memory runs wholly covered by later runs of the same memory. */
function dropSupersededRuns(records: readonly JournalRecord[], drop: Uint8Array): void {
  const covered = new Map<number, [number, number][]>();
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (r.kind !== "memory.run") continue;
    const ranges = covered.get(r.memoryIndex) ?? [];
    const end = r.offset + r.byteLength;
    if (isCovered(ranges, r.offset, end)) drop[i] = 1;
    else covered.set(r.memoryIndex, addRange(ranges, r.offset, end));
  }
}

/** Keeps only the last record for each key the `key` function gives. */
function keepLastBy(
  records: readonly JournalRecord[],
  drop: Uint8Array,
  key: (r: JournalRecord) => string | undefined,
): void {
  const seen = new Set<string>();
  for (let i = records.length - 1; i >= 0; i--) {
    const k = key(records[i]);
    if (k === undefined) continue;
    if (seen.has(k)) drop[i] = 1;
    else seen.add(k);
  }
}

/**
 * Compacts records: keeps the committed ones (up to the last snapshot marker) and drops what the
 * state does not need: memory runs superseded by later ones, fds opened and closed with no
 * lasting effect, file writes overwritten later, earlier snapshot markers, identity, memory size,
 * thread state, environment and exit records replaced by later ones; globals are merged into one
 * record and random facts into one. `foldRecords` gives the same state before and after.
 *
 * @example
 * ```ts
 * import { compactRecords } from "./compact.ts";
 * const out = compactRecords([
 *   { kind: "fd.open", fd: 5, fdKind: "file", path: "/a", oflags: 0, fdflags: 0,
 *     rightsBase: 0n, rightsInheriting: 0n },
 *   { kind: "fd.close", fd: 5 },
 *   { kind: "snapshot", trigger: "accept", timeNs: 0n },
 * ]);
 * console.assert(out.length === 1);
 * ```
 */
export function compactRecords(
  records: readonly JournalRecord[],
  options: CompactOptions = {},
): JournalRecord[] {
  const { committed, pending } = splitAtLastSnapshot(records);
  const drop = new Uint8Array(committed.length);
  dropSupersededRuns(committed, drop);
  dropDeadFds(committed, drop);
  dropOverwrittenWrites(committed, drop);
  keepLastBy(committed, drop, (r) => {
    switch (r.kind) {
      case "snapshot":
      case "identity":
      case "fact.env":
      case "exit":
        return r.kind;
      case "memory.size":
        return `memory.size:${r.memoryIndex}`;
      case "thread.state":
        return `thread.state:${r.threadId}`;
      default:
        return undefined;
    }
  });

  // Globals merge into the last globals record; random facts into the last random fact.
  const globals = new Map<number, GlobalValue>();
  const random: Uint8Array[] = [];
  let lastGlobals = -1, lastRandom = -1;
  committed.forEach((r, i) => {
    if (r.kind === "globals") {
      for (const g of r.globals) globals.set(g.index, g);
      lastGlobals = i;
    } else if (r.kind === "fact.random") {
      random.push(r.bytes);
      lastRandom = i;
    }
  });

  const out: JournalRecord[] = [];
  committed.forEach((r, i) => {
    if (drop[i]) return;
    if (r.kind === "globals") {
      if (i === lastGlobals) {
        out.push({
          kind: "globals",
          globals: [...globals.values()].sort((a, b) => a.index - b.index),
        });
      }
    } else if (r.kind === "fact.random") {
      if (i === lastRandom) out.push(mergeRandom(random));
    } else {
      out.push(r);
    }
  });
  if (options.keepPending) out.push(...pending);
  return out;
}

function mergeRandom(parts: readonly Uint8Array[]): FactRandomRecord {
  if (parts.length === 1) return { kind: "fact.random", bytes: parts[0] };
  let total = 0;
  for (const p of parts) total += p.length;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { kind: "fact.random", bytes };
}
