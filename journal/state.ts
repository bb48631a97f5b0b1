/**
 * The reference state model: a pure fold of records into the state they describe.
 *
 * It defines what a journal means, independent of the runtime: compaction is correct exactly when
 * `foldRecords(compact(records))` equals `foldRecords(records)`. The output is canonical (maps in
 * key order, hard links named by their sorted paths), so two equal states compare equal with
 * `assert.deepStrictEqual`.
 *
 * Files the journal did not create start from the app's package, which the journal does not hold;
 * the model tracks what the journal knows of them (`origin`, written extents, and the size once
 * truncated).
 *
 * @module
 */

import { applyMemoryRuns } from "./memory.ts";
import type {
  FactEnvRecord,
  FdKind,
  GlobalValue,
  IdentityRecord,
  JournalRecord,
  SnapshotRecord,
  ThreadStateRecord,
} from "./records.ts";

/** Bytes a journal wrote to a file, as sorted, disjoint, non-adjacent extents. */
export interface FileExtent {
  readonly offset: number;
  readonly data: Uint8Array;
}

/** What the journal knows of a file's content. */
export interface FileContent {
  /** Package path the content starts from, `null` for a file the journal created. */
  readonly origin: string | null;
  /** Exact size, or `null` when it depends on the package file. */
  readonly size: number | null;
  /** Package bytes at or past this offset were truncated away (`null`: none were). */
  readonly baseLimit: number | null;
  readonly extents: readonly FileExtent[];
}

/** Access and modification times (ns since the epoch), when the journal set them. */
export interface Times {
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
}

/** One path of the fs diff against the package. */
export type FsEntry =
  | { readonly type: "deleted" }
  | {
    readonly type: "file";
    readonly content: FileContent;
    readonly times: Times | null;
    /** Every path of this inode, sorted, when it has more than one. */
    readonly links: readonly string[];
  }
  | { readonly type: "dir"; readonly origin: string | null; readonly times: Times | null }
  | { readonly type: "symlink"; readonly target: string; readonly times: Times | null }
  | {
    /** A package entry the journal renamed, linked or stamped without knowing what it is. */
    readonly type: "package";
    readonly origin: string;
    readonly times: Times | null;
    readonly links: readonly string[];
  };

/** Socket details of an fd. */
export interface SocketState {
  readonly family: number;
  readonly sockType: number;
  readonly protocol: number;
  readonly address: string | null;
  readonly backlog: number | null;
  readonly peer: string | null;
  readonly accepted: boolean;
  /** False for connected and accepted sockets, whose peer is outside the guest. */
  readonly restorable: boolean;
}

/** One open fd. */
export interface FdState {
  readonly fdKind: FdKind;
  readonly path: string;
  readonly oflags: number;
  readonly fdflags: number;
  readonly rightsBase: bigint;
  readonly rightsInheriting: bigint;
  readonly offset: number;
  readonly socket: SocketState | null;
  /** The lowest fd sharing this fd's open file description (itself when not shared). */
  readonly sharedWith: number;
}

/** One linear memory. */
export interface MemoryState {
  /** Size in Wasm pages, when a `memory.size` record gave it. */
  readonly pages: number | null;
  /** Bytes written by runs; bytes past its end are zero. */
  readonly image: Uint8Array;
}

/** The state a journal describes. */
export interface JournalState {
  readonly identity: IdentityRecord | null;
  readonly memories: ReadonlyMap<number, MemoryState>;
  readonly globals: ReadonlyMap<number, GlobalValue>;
  readonly threads: ReadonlyMap<number, ThreadStateRecord>;
  readonly fds: ReadonlyMap<number, FdState>;
  readonly fs: ReadonlyMap<string, FsEntry>;
  /** Random bytes drawn, concatenated in order. */
  readonly random: Uint8Array;
  readonly clockReads: readonly { readonly clockId: number; readonly timeNs: bigint }[];
  readonly env: FactEnvRecord | null;
  readonly snapshot: SnapshotRecord | null;
  readonly exitCode: number | null;
  /** Records of kinds this reader does not know, counted, not applied. */
  readonly unknownRecords: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MFile = Mutable<FileContent> & { extents: FileExtent[] };
type Inode =
  | { type: "file"; content: MFile; times: Times | null }
  | { type: "dir"; origin: string | null; times: Times | null }
  | { type: "symlink"; target: string; times: Times | null }
  | { type: "package"; origin: string; times: Times | null };
type Desc = Omit<Mutable<FdState>, "sharedWith">;

function writeExtent(c: MFile, offset: number, data: Uint8Array): void {
  if (data.length === 0) return;
  const end = offset + data.length;
  let lo = offset, hi = end;
  const keep: FileExtent[] = [];
  const merge: FileExtent[] = [];
  for (const e of c.extents) {
    const eEnd = e.offset + e.data.length;
    if (eEnd < offset || e.offset > end) keep.push(e);
    else {
      merge.push(e);
      lo = Math.min(lo, e.offset);
      hi = Math.max(hi, eEnd);
    }
  }
  const buf = new Uint8Array(hi - lo);
  for (const e of merge) buf.set(e.data, e.offset - lo);
  buf.set(data, offset - lo);
  keep.push({ offset: lo, data: buf });
  keep.sort((a, b) => a.offset - b.offset);
  c.extents = keep;
  if (c.size !== null) c.size = Math.max(c.size, end);
}

function truncateContent(c: MFile, size: number): void {
  const out: FileExtent[] = [];
  for (const e of c.extents) {
    if (e.offset >= size) continue;
    out.push(
      e.offset + e.data.length > size
        ? { offset: e.offset, data: e.data.slice(0, size - e.offset) }
        : e,
    );
  }
  c.extents = out;
  c.size = size;
  if (c.origin !== null) c.baseLimit = c.baseLimit === null ? size : Math.min(c.baseLimit, size);
}

/** Folds records, in order, into state. Records that make no sense in context are ignored. */
class Folder {
  identity: IdentityRecord | null = null;
  memories = new Map<number, { pages: number | null; image: Uint8Array }>();
  globals = new Map<number, GlobalValue>();
  threads = new Map<number, ThreadStateRecord>();
  fds = new Map<number, Desc>();
  paths = new Map<string, Inode | "deleted">();
  random: Uint8Array[] = [];
  clockReads: { clockId: number; timeNs: bigint }[] = [];
  env: FactEnvRecord | null = null;
  snapshot: SnapshotRecord | null = null;
  exitCode: number | null = null;
  unknown = 0;

  memory(index: number): { pages: number | null; image: Uint8Array } {
    let m = this.memories.get(index);
    if (m === undefined) {
      m = { pages: null, image: new Uint8Array(0) };
      this.memories.set(index, m);
    }
    return m;
  }

  /** The file inode at `path`, made when absent; `null` when the path is not a file. */
  file(path: string): { type: "file"; content: MFile; times: Times | null } | null {
    const e = this.paths.get(path);
    if (e === undefined || e === "deleted") {
      const content: MFile = e === undefined
        ? { origin: path, size: null, baseLimit: null, extents: [] }
        : { origin: null, size: 0, baseLimit: null, extents: [] };
      const node = { type: "file" as const, content, times: null };
      this.paths.set(path, node);
      return node;
    }
    if (e.type === "package") {
      const node = e as unknown as Inode;
      Object.assign(node, {
        type: "file",
        content: { origin: e.origin, size: null, baseLimit: null, extents: [] },
      });
      delete (node as { origin?: string }).origin;
      return node as { type: "file"; content: MFile; times: Times | null };
    }
    return e.type === "file" ? e : null;
  }

  /** The inode at `path`, standing for the package entry when the journal never touched it. */
  node(path: string): Inode | null {
    const e = this.paths.get(path);
    if (e === "deleted") return null;
    if (e !== undefined) return e;
    const node: Inode = { type: "package", origin: path, times: null };
    this.paths.set(path, node);
    return node;
  }

  removeUnder(path: string): void {
    const prefix = path === "/" ? "/" : `${path}/`;
    for (const k of [...this.paths.keys()]) if (k.startsWith(prefix)) this.paths.delete(k);
  }

  apply(r: JournalRecord): void {
    switch (r.kind) {
      case "identity":
        this.identity = r;
        return;
      case "memory.size":
        this.memory(r.memoryIndex).pages = r.pages;
        return;
      case "memory.run": {
        if (r.byteLength === 0) return;
        const m = this.memory(r.memoryIndex);
        const end = r.offset + r.byteLength;
        if (end > m.image.length) {
          const grown = new Uint8Array(end);
          grown.set(m.image);
          m.image = grown;
        }
        applyMemoryRuns([r], m.image, { memoryIndex: r.memoryIndex });
        return;
      }
      case "globals":
        for (const g of r.globals) this.globals.set(g.index, g);
        return;
      case "thread.state":
        this.threads.set(r.threadId, r);
        return;
      case "fd.open":
        this.fds.set(r.fd, {
          fdKind: r.fdKind,
          path: r.path,
          oflags: r.oflags,
          fdflags: r.fdflags,
          rightsBase: r.rightsBase,
          rightsInheriting: r.rightsInheriting,
          offset: 0,
          socket: null,
        });
        return;
      case "fd.close":
        this.fds.delete(r.fd);
        return;
      case "fd.seek": {
        const d = this.fds.get(r.fd);
        if (d !== undefined) d.offset = r.offset;
        return;
      }
      case "fd.renumber": {
        const d = this.fds.get(r.from);
        if (d === undefined || r.from === r.to) return;
        this.fds.delete(r.from);
        this.fds.set(r.to, d);
        return;
      }
      case "fd.dup": {
        const d = this.fds.get(r.fd);
        if (d !== undefined) this.fds.set(r.newFd, d);
        return;
      }
      case "fd.set_flags": {
        const d = this.fds.get(r.fd);
        if (d !== undefined) d.fdflags = r.fdflags;
        return;
      }
      case "fs.write": {
        const f = this.file(r.path);
        if (f !== null) writeExtent(f.content, r.offset, r.data);
        return;
      }
      case "fs.truncate": {
        const f = this.file(r.path);
        if (f !== null) truncateContent(f.content, r.size);
        return;
      }
      case "fs.mkdir": {
        const e = this.paths.get(r.path);
        if (e === undefined || e === "deleted") {
          this.paths.set(r.path, { type: "dir", origin: null, times: null });
        }
        return;
      }
      case "fs.rmdir": {
        const e = this.paths.get(r.path);
        if (e === "deleted" || (e !== undefined && e.type !== "dir" && e.type !== "package")) {
          return;
        }
        this.removeUnder(r.path);
        this.paths.set(r.path, "deleted");
        return;
      }
      case "fs.unlink": {
        const e = this.paths.get(r.path);
        if (e !== undefined && e !== "deleted" && e.type === "dir") return;
        this.paths.set(r.path, "deleted");
        return;
      }
      case "fs.rename": {
        if (r.from === r.to || r.to.startsWith(`${r.from}/`)) return;
        const src = this.node(r.from);
        if (src === null) return;
        const moved: [string, Inode | "deleted"][] = [];
        const prefix = `${r.from}/`;
        for (const [k, v] of this.paths) {
          if (k.startsWith(prefix)) moved.push([r.to + k.slice(r.from.length), v]);
        }
        this.removeUnder(r.from);
        this.removeUnder(r.to);
        for (const [k, v] of moved) this.paths.set(k, v);
        this.paths.set(r.to, src);
        this.paths.set(r.from, "deleted");
        return;
      }
      case "fs.link": {
        const src = this.node(r.from);
        if (src === null || src.type === "dir" || r.from === r.to) return;
        this.paths.set(r.to, src);
        return;
      }
      case "fs.symlink": {
        const e = this.paths.get(r.path);
        if (e !== undefined && e !== "deleted") return;
        this.paths.set(r.path, { type: "symlink", target: r.target, times: null });
        return;
      }
      case "fs.set_times": {
        const n = this.node(r.path);
        if (n !== null) n.times = { atimeNs: r.atimeNs, mtimeNs: r.mtimeNs };
        return;
      }
      case "sock.open":
        this.fds.set(r.fd, {
          fdKind: "socket",
          path: "",
          oflags: 0,
          fdflags: 0,
          rightsBase: 0n,
          rightsInheriting: 0n,
          offset: 0,
          socket: {
            family: r.family,
            sockType: r.sockType,
            protocol: r.protocol,
            address: null,
            backlog: null,
            peer: null,
            accepted: false,
            restorable: true,
          },
        });
        return;
      case "sock.bind":
      case "sock.listen":
      case "sock.connected": {
        const d = this.fds.get(r.fd);
        if (r.kind === "sock.connected" && d === undefined) {
          this.apply({ kind: "sock.open", fd: r.fd, family: 0, sockType: 1, protocol: 0 });
          return this.apply(r);
        }
        if (d === undefined || d.socket === null) return;
        if (r.kind === "sock.bind") d.socket = { ...d.socket, address: r.address };
        else if (r.kind === "sock.listen") d.socket = { ...d.socket, backlog: r.backlog };
        else {
          d.socket = { ...d.socket, peer: r.peer, accepted: r.accepted, restorable: false };
        }
        return;
      }
      case "fact.random":
        this.random.push(r.bytes);
        return;
      case "fact.clock":
        this.clockReads.push({ clockId: r.clockId, timeNs: r.timeNs });
        return;
      case "fact.env":
        this.env = r;
        return;
      case "snapshot":
        this.snapshot = r;
        return;
      case "exit":
        this.exitCode = r.code;
        return;
      case "unknown":
        this.unknown++;
        return;
    }
  }

  finish(): JournalState {
    const fds = new Map<number, FdState>();
    const firstFd = new Map<Desc, number>();
    for (const fd of [...this.fds.keys()].sort((a, b) => a - b)) {
      const d = this.fds.get(fd)!;
      if (!firstFd.has(d)) firstFd.set(d, fd);
      fds.set(fd, { ...d, sharedWith: firstFd.get(d)! });
    }
    const linksOf = new Map<Inode, string[]>();
    for (const [p, v] of this.paths) {
      if (v === "deleted") continue;
      const l = linksOf.get(v) ?? [];
      l.push(p);
      linksOf.set(v, l);
    }
    const fs = new Map<string, FsEntry>();
    for (const p of [...this.paths.keys()].sort()) {
      const v = this.paths.get(p)!;
      if (v === "deleted") {
        fs.set(p, { type: "deleted" });
        continue;
      }
      const all = linksOf.get(v)!.sort();
      const links = all.length > 1 ? all : [];
      switch (v.type) {
        case "file":
          fs.set(p, {
            type: "file",
            content: { ...v.content, extents: [...v.content.extents] },
            times: v.times,
            links,
          });
          break;
        case "package":
          fs.set(p, { type: "package", origin: v.origin, times: v.times, links });
          break;
        default:
          fs.set(p, { ...v });
      }
    }
    let total = 0;
    for (const b of this.random) total += b.length;
    const random = new Uint8Array(total);
    let at = 0;
    for (const b of this.random) {
      random.set(b, at);
      at += b.length;
    }
    return {
      identity: this.identity,
      memories: sortedMap(this.memories),
      globals: sortedMap(this.globals),
      threads: sortedMap(this.threads),
      fds,
      fs,
      random,
      clockReads: this.clockReads,
      env: this.env,
      snapshot: this.snapshot,
      exitCode: this.exitCode,
      unknownRecords: this.unknown,
    };
  }
}

function sortedMap<V>(m: Map<number, V>): Map<number, V> {
  return new Map([...m].sort((a, b) => a[0] - b[0]));
}

/**
 * Folds records, in order, into the state they describe. Pass the committed records (see
 * `readJournal`) to get the state restore applies.
 *
 * @example
 * ```ts
 * import { foldRecords } from "./state.ts";
 * const s = foldRecords([
 *   { kind: "fs.write", path: "/tmp/a", offset: 0, data: new Uint8Array([1, 2]) },
 *   { kind: "fd.open", fd: 3, fdKind: "file", path: "/tmp/a", oflags: 0, fdflags: 0,
 *     rightsBase: 0n, rightsInheriting: 0n },
 * ]);
 * console.assert(s.fds.get(3)?.path === "/tmp/a");
 * ```
 * @throws {MemoryRunError} when a memory run is corrupt.
 */
export function foldRecords(records: Iterable<JournalRecord>): JournalState {
  const f = new Folder();
  for (const r of records) f.apply(r);
  return f.finish();
}
