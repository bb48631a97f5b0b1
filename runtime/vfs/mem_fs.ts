/**
 * {@link MemFs}: the default, in-memory file system, plus host-side helpers to populate and read
 * it and to mount other backends (host directories, packages) at a path.
 *
 * @module
 */

import { fail } from "./errors.ts";
import { type DirNode, FsIdentity, MemDir, type VNode } from "./inode.ts";
import { lookupPath, resolve } from "./resolve.ts";

const encoder = new TextEncoder();

/** A tree with a root directory and host-side conveniences. */
export interface FileSystem {
  readonly root: DirNode;
}

/**
 * An in-memory file system.
 *
 * @example
 * ```ts
 * const fs = new MemFs();
 * fs.writeFile("etc/motd", "hello\n");
 * console.log(new TextDecoder().decode(fs.readFile("etc/motd"))); // "hello\n"
 * ```
 */
export class MemFs implements FileSystem {
  readonly identity: FsIdentity;
  readonly root: MemDir;

  constructor(root?: MemDir) {
    this.root = root ?? new MemDir(new FsIdentity());
    this.identity = this.root.fs;
  }

  /** Creates `path` and missing parents; returns the directory. */
  mkdirp(path: string): DirNode {
    return mkdirp(this.root, path);
  }

  /** Creates or replaces a file (and missing parents) with `data`. */
  writeFile(path: string, data: Uint8Array | string): void {
    writeFileAt(this.root, path, data);
  }

  /** Reads a whole file (following symlinks). */
  readFile(path: string): Uint8Array {
    return readFileAt(this.root, path);
  }

  /** Creates a symlink at `path` holding `target`. */
  symlink(path: string, target: string): void {
    const r = resolve(this.root, stripSlash(path), false);
    if (r.node !== null) fail("EXIST", `File exists: ${path}`);
    r.dir.symlink(r.name, target);
  }

  /** Mounts another backend's directory at `path` (created as needed, must not exist yet). */
  mount(path: string, dir: DirNode): void {
    const clean = stripSlash(path);
    const slash = clean.lastIndexOf("/");
    const parent = slash < 0 ? this.root : mkdirp(this.root, clean.slice(0, slash));
    const name = clean.slice(slash + 1);
    if (!(parent instanceof MemDir)) {
      fail("NOTSUP", `Cannot mount inside a non-memory directory: ${path}`);
    }
    parent.add(name, dir);
  }

  /** The node at `path`, or null. */
  lookup(path: string, follow = true): VNode | null {
    const clean = stripSlash(path);
    if (clean === "") return this.root;
    try {
      return lookupPath(this.root, clean, follow);
    } catch {
      return null;
    }
  }
}

/** Removes leading slashes so host-side helpers accept "/etc" as well as "etc". */
export function stripSlash(path: string): string {
  let i = 0;
  while (i < path.length && path.charCodeAt(i) === 47) i++;
  return path.slice(i);
}

/** Creates `path` (relative to `root`) and missing parents. */
export function mkdirp(root: DirNode, path: string): DirNode {
  let dir = root;
  for (const part of stripSlash(path).split("/")) {
    if (part === "" || part === ".") continue;
    const r = resolve(dir, part, true);
    if (r.node === null) dir = dir.mkdir(part);
    else if (r.node.kind === "dir") dir = r.node;
    else fail("NOTDIR", `Not a directory: ${part} in ${path}`);
  }
  return dir;
}

/** Creates or replaces the file at `path` with `data`, creating parents. */
export function writeFileAt(root: DirNode, path: string, data: Uint8Array | string): void {
  const clean = stripSlash(path);
  const slash = clean.lastIndexOf("/");
  const dir = slash < 0 ? root : mkdirp(root, clean.slice(0, slash));
  const r = resolve(dir, clean.slice(slash + 1), true);
  if (r.node !== null && r.node.kind !== "file") fail("ISDIR", `Not a regular file: ${path}`);
  const file = r.node ?? r.dir.createFile(r.name);
  const io = file.open(true);
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  io.truncate(0);
  io.pwrite(bytes, 0);
  io.close();
}

/** Reads the whole file at `path`. */
export function readFileAt(root: DirNode, path: string): Uint8Array {
  const node = lookupPath(root, stripSlash(path) || ".", true);
  if (node.kind !== "file") fail("ISDIR", `Not a regular file: ${path}`);
  const io = node.open(false);
  try {
    const out = new Uint8Array(io.size());
    let off = 0;
    while (off < out.length) {
      const n = io.pread(out.subarray(off), off);
      if (n === 0) break;
      off += n;
    }
    return out.subarray(0, off);
  } finally {
    io.close();
  }
}
