/**
 * What changed in a file system since boot, as plain records, and how to apply them again.
 *
 * {@link listChanges} compares an in-memory tree with its base: the lower layer of an overlay, or
 * nothing for a plain {@link MemFs} (then every entry is a change). The records rebuild the state
 * when {@link applyChanges} replays them, in order, on a fresh copy of the same base. They are
 * deterministic: the same tree gives the same records. Mounted backends (host directories) are
 * skipped: they are configuration, not state. Directory times are not recorded.
 *
 * @module
 */

import { fail } from "./errors.ts";
import { type DirNode, MemDir, MemFile, type VNode } from "./inode.ts";
import { mkdirp, readFileAt, stripSlash } from "./mem_fs.ts";
import { OverlayDir, OverlayFile, OverlaySymlink } from "./overlay.ts";
import { lookupPath, resolve } from "./resolve.ts";

/** One change to a file system. Paths are relative to the root, without a leading slash. */
export type FsChange =
  | { readonly op: "mkdir"; readonly path: string }
  /** Removes a directory and everything below it. */
  | { readonly op: "rmdir"; readonly path: string }
  | { readonly op: "unlink"; readonly path: string }
  /** Writes bytes at an offset, creating the file when missing. */
  | {
    readonly op: "write";
    readonly path: string;
    readonly offset: number;
    readonly data: Uint8Array;
  }
  | { readonly op: "truncate"; readonly path: string; readonly size: number }
  | { readonly op: "symlink"; readonly path: string; readonly target: string }
  /** Adds `path` as a hard link to the existing `existing`. */
  | { readonly op: "link"; readonly path: string; readonly existing: string }
  | { readonly op: "rename"; readonly from: string; readonly to: string }
  | { readonly op: "times"; readonly path: string; readonly atim: bigint; readonly mtim: bigint };

/** Options of {@link listChanges}. */
export interface ListChangesOptions {
  /** Granularity of partial writes for copied-up files. @default 4096 */
  blockSize?: number;
}

/**
 * Lists the changes that turn the base of `root` into its current state.
 *
 * @example
 * ```ts
 * import { MemFs } from "./mem_fs.ts";
 * const fs = new MemFs();
 * fs.writeFile("a/b.txt", "hi");
 * console.log(listChanges(fs.root).map((c) => c.op)); // ["mkdir", "write", "times"]
 * ```
 */
export function listChanges(root: DirNode, options: ListChangesOptions = {}): FsChange[] {
  const out: FsChange[] = [];
  const seen = new Map<VNode, string>();
  walk(root, "", true, out, seen, options.blockSize ?? 4096);
  return out;
}

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

function walk(
  dir: DirNode,
  path: string,
  inPlace: boolean,
  out: FsChange[],
  seen: Map<VNode, string>,
  block: number,
): void {
  if (!(dir instanceof MemDir)) return;
  const lower = inPlace && dir instanceof OverlayDir ? dir.lower : null;
  if (lower !== null) {
    for (const name of lower.names()) {
      const now = dir.lookup(name);
      const p = join(path, name);
      if (now !== null && origin(now) === p) continue;
      const was = lower.lookup(name);
      if (was === null) continue;
      out.push({ op: was.kind === "dir" ? "rmdir" : "unlink", path: p });
    }
  }
  for (const name of dir.names()) {
    const node = dir.lookup(name)!;
    const p = join(path, name);
    const here = lower !== null && origin(node) === p;
    if (node.kind === "dir") {
      if (!(node instanceof MemDir)) continue; // a mount point
      if (!here) out.push({ op: "mkdir", path: p });
      walk(node, p, here, out, seen, block);
    } else if (node.kind === "symlink") {
      if (!here) {
        const first = seen.get(node);
        if (first !== undefined) out.push({ op: "link", path: p, existing: first });
        else {
          seen.set(node, p);
          out.push({ op: "symlink", path: p, target: node.readlink() });
        }
      }
    } else if (node instanceof MemFile) {
      fileChanges(node, p, here, out, seen, block);
    }
  }
}

function origin(node: VNode): string | null {
  if (node instanceof OverlayDir) return node.origin;
  if (node instanceof OverlayFile || node instanceof OverlaySymlink) return node.origin;
  return null;
}

function fileChanges(
  file: MemFile,
  p: string,
  here: boolean,
  out: FsChange[],
  seen: Map<VNode, string>,
  block: number,
): void {
  const first = seen.get(file);
  if (first !== undefined) {
    out.push({ op: "link", path: p, existing: first });
    return;
  }
  seen.set(file, p);
  if (here && file instanceof OverlayFile) {
    if (file.copied) {
      const now = file.data;
      const old = readLower(file);
      for (let off = 0; off < now.length; off += block) {
        const end = Math.min(off + block, now.length);
        if (!sameRange(now, old, off, end)) {
          // Merge consecutive changed blocks into one write.
          let stop = end;
          while (
            stop < now.length && !sameRange(now, old, stop, Math.min(stop + block, now.length))
          ) {
            stop = Math.min(stop + block, now.length);
          }
          out.push({ op: "write", path: p, offset: off, data: now.slice(off, stop) });
          off = stop - block;
        }
      }
      if (now.length !== old.length) out.push({ op: "truncate", path: p, size: now.length });
    }
    const st = file.stat();
    if (file.copied || st.mtim !== file.baseMtim || st.atim !== file.baseAtim) {
      out.push({ op: "times", path: p, atim: st.atim, mtim: st.mtim });
    }
    return;
  }
  out.push({ op: "write", path: p, offset: 0, data: file.data.slice() });
  const st = file.stat();
  out.push({ op: "times", path: p, atim: st.atim, mtim: st.mtim });
}

function readLower(file: OverlayFile): Uint8Array {
  const io = file.lower.open(false);
  try {
    const data = new Uint8Array(io.size());
    let off = 0;
    while (off < data.length) {
      const n = io.pread(data.subarray(off), off);
      if (n === 0) break;
      off += n;
    }
    return data.subarray(0, off);
  } finally {
    io.close();
  }
}

function sameRange(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (end > b.length) return false;
  for (let i = start; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Replays `changes` (from {@link listChanges}) on `root`, in order.
 *
 * @throws {FsError} when a change does not fit the tree (for example a write below a file).
 */
export function applyChanges(root: DirNode, changes: Iterable<FsChange>): void {
  for (const c of changes) {
    switch (c.op) {
      case "mkdir":
        mkdirp(root, c.path);
        break;
      case "rmdir":
        removeTree(root, c.path);
        break;
      case "unlink": {
        const r = resolve(root, stripSlash(c.path), false);
        r.dir.unlink(r.name);
        break;
      }
      case "write": {
        const file = openOrCreate(root, c.path);
        const io = file.open(true);
        io.pwrite(c.data, c.offset);
        io.close();
        break;
      }
      case "truncate": {
        const io = openOrCreate(root, c.path).open(true);
        io.truncate(c.size);
        io.close();
        break;
      }
      case "symlink": {
        const r = resolve(root, stripSlash(c.path), false);
        if (r.node !== null) r.dir.unlink(r.name);
        r.dir.symlink(r.name, c.target);
        break;
      }
      case "link": {
        const node = lookupPath(root, stripSlash(c.existing), false);
        const r = resolve(root, stripSlash(c.path), false);
        if (r.node !== null) r.dir.unlink(r.name);
        r.dir.link(r.name, node);
        break;
      }
      case "rename": {
        const a = resolve(root, stripSlash(c.from), false);
        const b = resolve(root, stripSlash(c.to), false);
        a.dir.rename(a.name, b.dir, b.name);
        break;
      }
      case "times":
        lookupPath(root, stripSlash(c.path), false).setTimes(c.atim, c.mtim);
        break;
      default:
        fail("INVAL", `Unknown fs change: ${JSON.stringify(c)}`);
    }
  }
}

function openOrCreate(root: DirNode, path: string) {
  const r = resolve(root, stripSlash(path), true);
  if (r.node === null) return r.dir.createFile(r.name);
  if (r.node.kind !== "file") fail("ISDIR", `Not a regular file: ${path}`);
  return r.node;
}

function removeTree(root: DirNode, path: string): void {
  const r = resolve(root, stripSlash(path), false);
  if (r.node === null) return;
  if (r.node.kind !== "dir") {
    r.dir.unlink(r.name);
    return;
  }
  const dir = r.node;
  for (const name of [...dir.names()]) {
    const child = dir.lookup(name);
    if (child?.kind === "dir") removeTree(dir, name);
    else dir.unlink(name);
  }
  r.dir.rmdir(r.name);
}

/** Reads a file of any tree (re-exported for snapshot tooling). */
export { readFileAt };
