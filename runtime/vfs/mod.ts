/**
 * Thaw's virtual file system.
 *
 * - {@link MemFs}: the default in-memory tree (files are growable byte arrays).
 * - {@link hostMount} / {@link packageMount}: host directories, confined (see `host_mount.ts`).
 * - {@link overlay}: a writable memory layer over a read-only lower directory, for apps.
 * - {@link resolve}: the one confined path walker every backend goes through.
 * - {@link listChanges} / {@link applyChanges}: what changed since boot, as plain records.
 *
 * Failures are {@link FsError}s whose `code` is an errno name ("NOENT"); `runtime/wasi` maps them
 * to preview1 errnos.
 *
 * @example
 * ```ts
 * import { hostMount, MemFs } from "./mod.ts";
 * const fs = new MemFs();
 * fs.writeFile("/etc/hosts", "127.0.0.1 localhost\n");
 * fs.mount("/data", hostMount("/tmp/data"));
 * ```
 *
 * @module
 */

export { FsError, type FsErrorCode } from "./errors.ts";
export {
  type DirNode,
  type FileIo,
  type FileNode,
  FsIdentity,
  isPlainName,
  MemDir,
  MemFile,
  MemSymlink,
  type NodeBase,
  type NodeKind,
  type NodeStat,
  nowNs,
  type SymlinkNode,
  type VNode,
} from "./inode.ts";
export { lookupPath, MAX_SYMLINKS, resolve, type Resolved } from "./resolve.ts";
export { type FileSystem, MemFs, mkdirp, readFileAt, stripSlash, writeFileAt } from "./mem_fs.ts";
export {
  hostMount,
  type HostMountOptions,
  mapHostError,
  nextHostEpoch,
  packageMount,
} from "./host_mount.ts";
export { overlay, OverlayDir, OverlayFile, OverlaySymlink } from "./overlay.ts";
export { applyChanges, type FsChange, listChanges, type ListChangesOptions } from "./diff.ts";
