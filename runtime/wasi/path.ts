/**
 * The `path_*` syscalls. Every path is resolved by the vfs resolver relative to a directory fd,
 * which is the sandbox root of that call: `..` cannot climb above it, absolute paths and
 * absolute symlinks answer EPERM (as wasmtime), symlink loops ELOOP.
 *
 * @module
 */

import { type DirNode, resolve, type Resolved, type VNode } from "../vfs/mod.ts";
import {
  ERRNO_BADF,
  ERRNO_BUSY,
  ERRNO_EXIST,
  ERRNO_INVAL,
  ERRNO_ISDIR,
  ERRNO_LOOP,
  ERRNO_NOENT,
  ERRNO_NOTCAPABLE,
  ERRNO_NOTDIR,
  ERRNO_PERM,
  ERRNO_ROFS,
  ERRNO_SUCCESS,
  FDFLAGS_ALL,
  FILESTAT_SIZE,
  LOOKUPFLAGS_SYMLINK_FOLLOW,
  OFLAGS_CREAT,
  OFLAGS_DIRECTORY,
  OFLAGS_EXCL,
  OFLAGS_TRUNC,
  RIGHTS_DIR,
  RIGHTS_FD_ALLOCATE,
  RIGHTS_FD_FILESTAT_SET_SIZE,
  RIGHTS_FD_READ,
  RIGHTS_FD_WRITE,
  RIGHTS_FILE,
  RIGHTS_PATH_CREATE_DIRECTORY,
  RIGHTS_PATH_CREATE_FILE,
  RIGHTS_PATH_FILESTAT_GET,
  RIGHTS_PATH_FILESTAT_SET_SIZE,
  RIGHTS_PATH_FILESTAT_SET_TIMES,
  RIGHTS_PATH_LINK_SOURCE,
  RIGHTS_PATH_LINK_TARGET,
  RIGHTS_PATH_OPEN,
  RIGHTS_PATH_READLINK,
  RIGHTS_PATH_REMOVE_DIRECTORY,
  RIGHTS_PATH_RENAME_SOURCE,
  RIGHTS_PATH_RENAME_TARGET,
  RIGHTS_PATH_SYMLINK,
  RIGHTS_PATH_UNLINK_FILE,
} from "./defs.ts";
import { WasiError } from "./errors.ts";
import { DirHandle, FileHandle, statOf } from "./file_handle.ts";
import { timesFromFlags, writeStat } from "./fd.ts";
import type { FdEntry } from "./fd_table.ts";
import type { Process } from "./process.ts";

const encoder = new TextEncoder();

function err(errno: number, message: string): never {
  throw new WasiError(message, errno);
}

function exists(r: Resolved, path: string): VNode {
  if (r.node === null) err(ERRNO_NOENT, `No such file or directory: ${path}`);
  return r.node;
}

/** The `path_*` syscalls of `proc`. */
export function pathSyscalls(proc: Process) {
  const mem = proc.mem;
  const fds = proc.fds;

  /** The directory entry of `fd`, checking `right` (ENOTDIR for non-directories). */
  function dirEntry(fd: number, right: number): FdEntry & { handle: DirHandle } {
    const e = fds.get(fd);
    if (e === undefined) err(ERRNO_BADF, `Bad file descriptor ${fd}`);
    if (!(e.handle instanceof DirHandle)) err(ERRNO_NOTDIR, `fd ${fd} is not a directory`);
    if ((e.rightsBase & right) !== right) {
      err(ERRNO_NOTCAPABLE, `fd ${fd} lacks the right 0x${right.toString(16)} for this operation`);
    }
    return e as FdEntry & { handle: DirHandle };
  }

  function dir(fd: number, right: number): DirNode {
    return dirEntry(fd, right).handle.dir;
  }

  function str(ptr: number, len: number): string {
    return mem.readString(ptr, len);
  }

  return {
    path_create_directory(fd: number, pathPtr: number, pathLen: number): number {
      const d = dir(fd, RIGHTS_PATH_CREATE_DIRECTORY);
      const path = str(pathPtr, pathLen);
      const r = resolve(d, path, false);
      if (r.node !== null) err(ERRNO_EXIST, `File exists: ${path}`);
      r.dir.mkdir(r.name);
      return ERRNO_SUCCESS;
    },

    path_filestat_get(
      fd: number,
      flags: number,
      pathPtr: number,
      pathLen: number,
      buf: number,
    ): number {
      const d = dir(fd, RIGHTS_PATH_FILESTAT_GET);
      const path = str(pathPtr, pathLen);
      mem.view(buf, FILESTAT_SIZE);
      const node = exists(resolve(d, path, (flags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0), path);
      writeStat(mem, buf, statOf(node.stat()));
      return ERRNO_SUCCESS;
    },

    path_filestat_set_times(
      fd: number,
      flags: number,
      pathPtr: number,
      pathLen: number,
      atim: bigint,
      mtim: bigint,
      fstFlags: number,
    ): number {
      const d = dir(fd, RIGHTS_PATH_FILESTAT_SET_TIMES);
      const path = str(pathPtr, pathLen);
      const [a, m] = timesFromFlags(proc, atim, mtim, fstFlags);
      const node = exists(resolve(d, path, (flags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0), path);
      node.setTimes(a, m);
      return ERRNO_SUCCESS;
    },

    path_link(
      oldFd: number,
      oldFlags: number,
      oldPtr: number,
      oldLen: number,
      newFd: number,
      newPtr: number,
      newLen: number,
    ): number {
      const from = dir(oldFd, RIGHTS_PATH_LINK_SOURCE);
      const to = dir(newFd, RIGHTS_PATH_LINK_TARGET);
      const oldPath = str(oldPtr, oldLen);
      const newPath = str(newPtr, newLen);
      // wasmtime refuses to follow a symlink for path_link (Linux's linkat would need
      // AT_SYMLINK_FOLLOW, which cap-std does not offer): INVAL.
      if ((oldFlags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0) {
        err(ERRNO_INVAL, `path_link cannot follow symlinks: ${oldPath}`);
      }
      const src = exists(resolve(from, oldPath, false), oldPath);
      if (src.kind === "dir") err(ERRNO_PERM, `Cannot hard-link a directory: ${oldPath}`);
      const dst = resolve(to, newPath, false);
      if (dst.node !== null) err(ERRNO_EXIST, `File exists: ${newPath}`);
      if (dst.trailingSlash) err(ERRNO_NOENT, `Not a directory: ${newPath}`);
      dst.dir.link(dst.name, src);
      return ERRNO_SUCCESS;
    },

    path_open(
      fd: number,
      dirflags: number,
      pathPtr: number,
      pathLen: number,
      oflags: number,
      rightsBase: bigint,
      _rightsInheriting: bigint, // ignored, as in wasmtime
      fdflags: number,
      fdPtr: number,
    ): number {
      const de = dirEntry(fd, RIGHTS_PATH_OPEN);
      const path = str(pathPtr, pathLen);
      mem.view(fdPtr, 4);
      if ((oflags & ~15) !== 0) err(ERRNO_INVAL, `Invalid oflags 0x${oflags.toString(16)}`);
      if ((fdflags & ~FDFLAGS_ALL) !== 0) {
        err(ERRNO_INVAL, `Invalid fdflags 0x${fdflags.toString(16)}`);
      }
      const wanted = Number(BigInt.asUintN(30, rightsBase));
      if ((wanted & RIGHTS_FD_WRITE) !== 0 && (de.rightsInheriting & RIGHTS_FD_WRITE) === 0) {
        err(ERRNO_NOTCAPABLE, `Cannot open for writing below a read-only directory: ${path}`);
      }
      const trunc = (oflags & OFLAGS_TRUNC) !== 0;
      // As in wasmtime, O_TRUNC needs the directory's PATH_FILESTAT_SET_SIZE right: wasi-libc
      // masks the requested rights with the directory's, so FD_WRITE alone cannot catch it.
      if (trunc && (de.rightsBase & RIGHTS_PATH_FILESTAT_SET_SIZE) === 0) {
        err(ERRNO_NOTCAPABLE, `Cannot truncate below a read-only directory: ${path}`);
      }
      const r = resolve(de.handle.dir, path, (dirflags & LOOKUPFLAGS_SYMLINK_FOLLOW) !== 0);
      let node = r.node;
      if (node === null) {
        if ((oflags & OFLAGS_CREAT) === 0) err(ERRNO_NOENT, `No such file or directory: ${path}`);
        if ((oflags & OFLAGS_DIRECTORY) !== 0 || r.trailingSlash) {
          err(
            r.trailingSlash ? ERRNO_ISDIR : ERRNO_INVAL,
            `Cannot create a directory with path_open: ${path}`,
          );
        }
        if ((de.rightsBase & RIGHTS_PATH_CREATE_FILE) === 0) {
          err(ERRNO_NOTCAPABLE, `fd ${fd} lacks the right to create files`);
        }
        node = r.dir.createFile(r.name);
      } else {
        if ((oflags & (OFLAGS_CREAT | OFLAGS_EXCL)) === (OFLAGS_CREAT | OFLAGS_EXCL)) {
          err(ERRNO_EXIST, `File exists: ${path}`);
        }
        if (node.kind === "symlink") {
          err(ERRNO_LOOP, `Is a symbolic link (opened without following): ${path}`);
        }
        if ((oflags & OFLAGS_DIRECTORY) !== 0 && node.kind !== "dir") {
          err(ERRNO_NOTDIR, `Not a directory: ${path}`);
        }
      }
      let entry: FdEntry;
      if (node.kind === "dir") {
        if (trunc) err(ERRNO_ISDIR, `Cannot truncate a directory: ${path}`);
        // FD_WRITE asks for a writable open, which a directory refuses (wasmtime: also with
        // OFLAGS_DIRECTORY).
        if ((wanted & RIGHTS_FD_WRITE) !== 0) {
          err(ERRNO_ISDIR, `Cannot open a directory for writing: ${path}`);
        }
        const parent = r.name === "." ? null : r.dir;
        entry = {
          handle: new DirHandle(node, joinPath(de.handle.path, path), parent),
          // As in wasmtime, the requested rights only choose read/write access: the new fd gets
          // every right the directory fd can hand down (guests often ask for none).
          rightsBase: RIGHTS_DIR & de.rightsInheriting,
          rightsInheriting: de.rightsInheriting,
          fdflags,
        };
      } else {
        const file = node as Exclude<VNode, DirNode | { kind: "symlink" }>;
        const readable = (wanted & RIGHTS_FD_READ) !== 0;
        const writable =
          (wanted & (RIGHTS_FD_WRITE | RIGHTS_FD_ALLOCATE | RIGHTS_FD_FILESTAT_SET_SIZE)) !== 0;
        if ((writable || trunc) && file.readOnly) err(ERRNO_ROFS, `Read-only file system: ${path}`);
        const io = file.open(writable || trunc);
        if (trunc) io.truncate(0);
        entry = {
          handle: new FileHandle(file, io, readable, writable, joinPath(de.handle.path, path)),
          rightsBase: RIGHTS_FILE & de.rightsInheriting & ~(readable ? 0 : RIGHTS_FD_READ) &
            ~((wanted & RIGHTS_FD_WRITE) !== 0 ? 0 : RIGHTS_FD_WRITE) &
            ~(writable ? 0 : RIGHTS_FD_ALLOCATE | RIGHTS_FD_FILESTAT_SET_SIZE),
          rightsInheriting: de.rightsInheriting,
          fdflags,
        };
      }
      mem.setU32(fdPtr, fds.insert(entry));
      return ERRNO_SUCCESS;
    },

    path_readlink(
      fd: number,
      pathPtr: number,
      pathLen: number,
      buf: number,
      bufLen: number,
      usedPtr: number,
    ): number {
      const d = dir(fd, RIGHTS_PATH_READLINK);
      const path = str(pathPtr, pathLen);
      mem.view(buf, bufLen);
      mem.view(usedPtr, 4);
      const node = exists(resolve(d, path, false), path);
      if (node.kind !== "symlink") err(ERRNO_INVAL, `Not a symbolic link: ${path}`);
      const target = encoder.encode(node.readlink());
      const n = Math.min(target.length, bufLen >>> 0);
      mem.write(buf, target.subarray(0, n));
      mem.setU32(usedPtr, n);
      return ERRNO_SUCCESS;
    },

    path_remove_directory(fd: number, pathPtr: number, pathLen: number): number {
      const d = dir(fd, RIGHTS_PATH_REMOVE_DIRECTORY);
      const path = str(pathPtr, pathLen);
      const r = resolve(d, path, false);
      if (r.name === ".") err(ERRNO_INVAL, `Cannot remove "." or "..": ${path}`);
      const node = exists(r, path);
      if (node.kind !== "dir") err(ERRNO_NOTDIR, `Not a directory: ${path}`);
      r.dir.rmdir(r.name);
      return ERRNO_SUCCESS;
    },

    path_rename(
      fd: number,
      oldPtr: number,
      oldLen: number,
      newFd: number,
      newPtr: number,
      newLen: number,
    ): number {
      const from = dir(fd, RIGHTS_PATH_RENAME_SOURCE);
      const to = dir(newFd, RIGHTS_PATH_RENAME_TARGET);
      const oldPath = str(oldPtr, oldLen);
      const newPath = str(newPtr, newLen);
      const src = resolve(from, oldPath, false);
      const node = exists(src, oldPath);
      const dst = resolve(to, newPath, false);
      if (src.name === "." || dst.name === ".") {
        err(ERRNO_BUSY, `Cannot rename "." or "..": ${oldPath} -> ${newPath}`);
      }
      if (dst.trailingSlash && node.kind !== "dir") {
        err(ERRNO_NOTDIR, `Not a directory: ${newPath}`);
      }
      src.dir.rename(src.name, dst.dir, dst.name);
      return ERRNO_SUCCESS;
    },

    path_symlink(
      oldPtr: number,
      oldLen: number,
      fd: number,
      newPtr: number,
      newLen: number,
    ): number {
      const d = dir(fd, RIGHTS_PATH_SYMLINK);
      const target = str(oldPtr, oldLen);
      const path = str(newPtr, newLen);
      const r = resolve(d, path, false);
      if (r.node !== null) err(ERRNO_EXIST, `File exists: ${path}`);
      if (r.trailingSlash) err(ERRNO_NOENT, `Trailing slash on a new symlink: ${path}`);
      // As wasmtime (cap-std): a guest cannot create a symlink with an absolute target, on any
      // backend (the resolver would refuse to follow it anyway).
      if (target.startsWith("/")) err(ERRNO_PERM, `Symlinks with absolute targets: ${target}`);
      r.dir.symlink(r.name, target);
      return ERRNO_SUCCESS;
    },

    path_unlink_file(fd: number, pathPtr: number, pathLen: number): number {
      const d = dir(fd, RIGHTS_PATH_UNLINK_FILE);
      const path = str(pathPtr, pathLen);
      const r = resolve(d, path, false);
      const node = exists(r, path);
      if (node.kind === "dir") err(ERRNO_ISDIR, `Is a directory: ${path}`);
      r.dir.unlink(r.name);
      return ERRNO_SUCCESS;
    },
  };
}

function joinPath(base: string, path: string): string {
  if (base === "" || base === ".") return path;
  return base.endsWith("/") ? base + path : `${base}/${path}`;
}
