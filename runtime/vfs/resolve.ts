/**
 * Confined path resolution. A path is resolved relative to a starting directory, which is the
 * sandbox root for that lookup: `..` never climbs above it, absolute paths and absolute symlink
 * targets are refused, and symlinks are expanded here, one component at a time, never by the host.
 * Escapes answer PERM, as wasmtime does (wasi-filesystem's `not-permitted`); more than {@link MAX_SYMLINKS} expansions answer
 * LOOP.
 *
 * @module
 */

import { fail } from "./errors.ts";
import type { DirNode, VNode } from "./inode.ts";

/** Symlink expansions allowed in one resolution (Linux's limit). */
export const MAX_SYMLINKS = 40;

/** The outcome of {@link resolve}: the final component's directory, name and node (if any). */
export interface Resolved {
  /** The directory that holds (or would hold) the final component. */
  dir: DirNode;
  /** The final component; "." when the path names the starting directory or a parent of it. */
  name: string;
  /** The node found, or null when the final component does not exist. */
  node: VNode | null;
  /** True when the path ended with "/" (the node must then be a directory). */
  trailingSlash: boolean;
}

/**
 * Resolves `path` below `start`. Intermediate symlinks are always followed; the final one only
 * when `follow` is true (or the path ends with "/").
 *
 * @example
 * ```ts
 * import { MemFs } from "./mem_fs.ts";
 * const fs = new MemFs();
 * fs.writeFile("a/b.txt", "hi");
 * const r = resolve(fs.root, "a/../a/b.txt", true);
 * console.log(r.name, r.node?.kind); // "b.txt" "file"
 * ```
 * @throws {FsError} NOENT, NOTDIR, PERM (escape), LOOP, INVAL (NUL byte).
 */
export function resolve(start: DirNode, path: string, follow: boolean): Resolved {
  if (path.length === 0) fail("NOENT", "Empty path");
  if (path.charCodeAt(0) === 47) {
    fail(
      "PERM",
      `Absolute paths are not allowed here: ${path}; use a path relative to a preopened directory`,
    );
  }
  if (path.includes("\0")) fail("INVAL", "Path contains a NUL byte");
  // Fast path: a single plain name.
  if (path.indexOf("/") < 0 && path !== "." && path !== "..") {
    const node = start.lookup(path);
    if (node === null || node.kind !== "symlink" || !follow) {
      return { dir: start, name: path, node, trailingSlash: false };
    }
  }
  const trailingSlash = path.charCodeAt(path.length - 1) === 47;
  const stack: DirNode[] = [start];
  let parts = path.split("/");
  let i = 0;
  let links = 0;
  for (;;) {
    // Skip empty components (a//b, trailing slash).
    while (i < parts.length && (parts[i] === "" || parts[i] === ".")) i++;
    const dir = stack[stack.length - 1];
    if (i >= parts.length) {
      return { dir, name: ".", node: dir, trailingSlash };
    }
    const name = parts[i++];
    let last = true;
    for (let j = i; j < parts.length; j++) {
      if (parts[j] !== "" && parts[j] !== ".") {
        last = false;
        break;
      }
    }
    if (name === "..") {
      if (stack.length === 1) {
        fail("PERM", `Path escapes its directory: ${path}`);
      }
      stack.pop();
      if (last) {
        const top = stack[stack.length - 1];
        return { dir: top, name: ".", node: top, trailingSlash };
      }
      continue;
    }
    const node = dir.lookup(name);
    if (last) {
      if (node !== null && node.kind === "symlink" && (follow || trailingSlash)) {
        parts = expand(node.readlink(), parts, i, path, ++links);
        i = 0;
        continue;
      }
      if (node !== null && trailingSlash && node.kind !== "dir") {
        fail("NOTDIR", `Not a directory: ${path}`);
      }
      return { dir, name, node, trailingSlash };
    }
    if (node === null) fail("NOENT", `No such file or directory: ${path}`);
    if (node.kind === "dir") {
      stack.push(node);
    } else if (node.kind === "symlink") {
      parts = expand(node.readlink(), parts, i, path, ++links);
      i = 0;
    } else {
      fail("NOTDIR", `Not a directory: ${path}`);
    }
  }
}

function expand(target: string, parts: string[], i: number, path: string, links: number): string[] {
  if (links > MAX_SYMLINKS) fail("LOOP", `Too many levels of symbolic links: ${path}`);
  if (target.length === 0) fail("NOENT", `Empty symlink target in ${path}`);
  if (target.charCodeAt(0) === 47) {
    fail(
      "PERM",
      `Symlink with an absolute target escapes its directory: ${path} -> ${target}`,
    );
  }
  if (target.includes("\0")) fail("INVAL", "Symlink target contains a NUL byte");
  const rest = parts.slice(i);
  const next = target.split("/");
  // A symlink ending in "/" keeps meaning "this directory".
  return rest.length > 0 ? next.concat(rest) : next;
}

/**
 * Resolves `path` and requires that it exists; returns the node.
 *
 * @throws {FsError} NOENT when missing, plus everything {@link resolve} throws.
 */
export function lookupPath(start: DirNode, path: string, follow = true): VNode {
  const r = resolve(start, path, follow);
  if (r.node === null) fail("NOENT", `No such file or directory: ${path}`);
  return r.node;
}
