/**
 * Host directory mounts (`--dir HOST::GUEST`) and read-only package mounts.
 *
 * Confinement: the vfs resolver hands a host directory only single, checked names (never "/",
 * ".", ".." or NUL), it never lets the host follow a symlink (links are read with `readLink` and
 * expanded by the resolver inside the sandbox), and before each host operation the containing
 * directory's real path is checked to be inside the mount. Opening a file is verified after the
 * fact: the opened file's device and inode must match the inode found at the file's real path,
 * which must be inside the mount; otherwise the file is closed and the call answers PERM.
 * Times are set through the verified open file, never by path.
 *
 * @module
 */

import { fail, FsError, type FsErrorCode } from "./errors.ts";
import {
  type DirNode,
  type FileIo,
  type FileNode,
  isPlainName,
  type NodeStat,
  type SymlinkNode,
  type VNode,
} from "./inode.ts";

/** Options of {@link hostMount}. */
export interface HostMountOptions {
  /** Refuse every write with EROFS (package mounts). @default false */
  readOnly?: boolean;
}

let nextDev = 1 << 20;

class MountContext {
  readonly root: string;
  readonly readOnly: boolean;
  readonly dev = nextDev++;

  constructor(root: string, readOnly: boolean) {
    this.root = root;
    this.readOnly = readOnly;
  }

  /** Fails unless `hostPath` (a directory) really lies inside the mount. */
  confine(hostPath: string): void {
    let real: string;
    try {
      real = Deno.realPathSync(hostPath);
    } catch (e) {
      throw mapHostError(e, hostPath);
    }
    if (!this.inside(real)) {
      fail("PERM", `Host path escapes the mounted directory ${this.root}: ${hostPath}`);
    }
  }

  inside(real: string): boolean {
    return real === this.root || real.startsWith(this.root === "/" ? "/" : this.root + "/");
  }

  writable(what: string): void {
    if (this.readOnly) fail("ROFS", `Read-only mount: cannot modify ${what}`);
  }
}

/**
 * Exposes the host directory `hostPath` as a vfs directory.
 *
 * @example
 * ```ts
 * import { MemFs } from "./mem_fs.ts";
 * const fs = new MemFs();
 * fs.mount("/data", hostMount("/tmp", { readOnly: true }));
 * ```
 * @throws {FsError} NOENT / NOTDIR when `hostPath` is not an existing directory.
 */
export function hostMount(hostPath: string, options: HostMountOptions = {}): DirNode {
  let real: string;
  try {
    real = Deno.realPathSync(hostPath);
  } catch (e) {
    throw mapHostError(e, hostPath);
  }
  if (!Deno.statSync(real).isDirectory) fail("NOTDIR", `Not a directory: ${hostPath}`);
  return new HostDir(new MountContext(real, options.readOnly ?? false), real);
}

/** A read-only mount of a host directory (an app's package). */
export function packageMount(hostPath: string): DirNode {
  return hostMount(hostPath, { readOnly: true });
}

/** Turns a Deno error into an {@link FsError}; host bugs (non-OS errors) pass through. */
export function mapHostError(e: unknown, path: string): unknown {
  if (e instanceof FsError) return e;
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string" && code.startsWith("E")) {
    const known: Record<string, FsErrorCode> = {
      ENOENT: "NOENT",
      EEXIST: "EXIST",
      ENOTDIR: "NOTDIR",
      EISDIR: "ISDIR",
      ENOTEMPTY: "NOTEMPTY",
      EACCES: "ACCES",
      EPERM: "PERM",
      ELOOP: "LOOP",
      EXDEV: "XDEV",
      EROFS: "ROFS",
      ENOSPC: "NOSPC",
      ENAMETOOLONG: "NAMETOOLONG",
      EFBIG: "FBIG",
      EINVAL: "INVAL",
      EMLINK: "MLINK",
    };
    return new FsError(known[code] ?? "IO", `${(e as Error).message}`);
  }
  if (e instanceof Deno.errors.NotCapable) {
    return new FsError(
      "ACCES",
      `Deno lacks permission for ${path}: run with --allow-read/--allow-write`,
    );
  }
  return e;
}

function toStat(ctx: MountContext, st: Deno.FileInfo, kind: VNode["kind"]): NodeStat {
  const ms = (d: Date | null) => BigInt(d?.getTime() ?? 0) * 1_000_000n;
  return {
    dev: ctx.dev,
    ino: st.ino ?? 0,
    kind,
    nlink: st.nlink ?? 1,
    size: kind === "dir" ? 4096 : st.size,
    atim: ms(st.atime),
    mtim: ms(st.mtime),
    ctim: ms(st.ctime ?? st.mtime),
  };
}

abstract class HostNode {
  abstract readonly kind: VNode["kind"];
  readonly ctx: MountContext;
  readonly path: string;

  constructor(ctx: MountContext, path: string) {
    this.ctx = ctx;
    this.path = path;
  }

  get readOnly(): boolean {
    return this.ctx.readOnly;
  }

  get dev(): number {
    return this.ctx.dev;
  }

  /** Checks that the directory holding this node is still inside the mount. */
  confineParent(): void {
    const slash = this.path.lastIndexOf("/");
    if (this.path !== this.ctx.root) this.ctx.confine(slash <= 0 ? "/" : this.path.slice(0, slash));
  }

  stat(): NodeStat {
    this.confineParent();
    try {
      return toStat(this.ctx, Deno.lstatSync(this.path), this.kind);
    } catch (e) {
      throw mapHostError(e, this.path);
    }
  }

  setTimes(atim: bigint | null, mtim: bigint | null): void {
    this.ctx.writable(this.path);
    if (this.kind === "symlink") {
      fail("NOTSUP", `Cannot set the times of a host symlink: ${this.path}`);
    }
    const f = verifiedOpen(this.ctx, this.path, false, this.kind === "dir");
    try {
      const st = f.statSync();
      const a = atim === null ? st.atime ?? new Date(0) : new Date(Number(atim / 1_000_000n));
      const m = mtim === null ? st.mtime ?? new Date(0) : new Date(Number(mtim / 1_000_000n));
      f.utimeSync(a, m);
    } catch (e) {
      throw mapHostError(e, this.path);
    } finally {
      f.close();
    }
  }
}

/**
 * Opens `path` and proves the open file is the one inside the mount: a symlink swapped in between
 * the resolver's check and the open is detected and refused.
 */
function verifiedOpen(ctx: MountContext, path: string, write: boolean, dir: boolean): Deno.FsFile {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path, { read: true, write });
  } catch (e) {
    throw mapHostError(e, path);
  }
  try {
    const opened = f.statSync();
    const real = Deno.realPathSync(path);
    const there = Deno.lstatSync(real);
    if (
      !ctx.inside(real) || opened.ino !== there.ino || opened.dev !== there.dev ||
      opened.isDirectory !== dir
    ) {
      fail("PERM", `Host file changed while opening (symlink race?): ${path}`);
    }
    return f;
  } catch (e) {
    f.close();
    throw mapHostError(e, path);
  }
}

class HostFile extends HostNode implements FileNode {
  readonly kind = "file" as const;

  open(write: boolean): FileIo {
    if (write) this.ctx.writable(this.path);
    return new HostFileIo(verifiedOpen(this.ctx, this.path, write, false), this.path);
  }
}

class HostFileIo implements FileIo {
  #file: Deno.FsFile;
  #pos = 0;
  readonly path: string;

  constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.path = path;
  }

  pread(dst: Uint8Array, pos: number): number {
    try {
      if (pos !== this.#pos) this.#file.seekSync(pos, Deno.SeekMode.Start);
      const n = this.#file.readSync(dst) ?? 0;
      this.#pos = pos + n;
      return n;
    } catch (e) {
      this.#pos = -1;
      throw mapHostError(e, this.path);
    }
  }

  pwrite(src: Uint8Array, pos: number): number {
    try {
      if (pos !== this.#pos) this.#file.seekSync(pos, Deno.SeekMode.Start);
      const n = this.#file.writeSync(src);
      this.#pos = pos + n;
      return n;
    } catch (e) {
      this.#pos = -1;
      throw mapHostError(e, this.path);
    }
  }

  size(): number {
    return this.#file.statSync().size;
  }

  truncate(size: number): void {
    try {
      this.#file.truncateSync(size);
    } catch (e) {
      throw mapHostError(e, this.path);
    }
  }

  sync(): void {
    this.#file.syncSync();
  }

  close(): void {
    this.#file.close();
  }
}

class HostSymlink extends HostNode implements SymlinkNode {
  readonly kind = "symlink" as const;

  readlink(): string {
    this.confineParent();
    try {
      return Deno.readLinkSync(this.path);
    } catch (e) {
      throw mapHostError(e, this.path);
    }
  }
}

/** Host special files (fifos, sockets, devices) are visible but cannot be opened. */
class HostSpecial extends HostFile {
  override open(): FileIo {
    fail("NOTSUP", `Host special files (fifos, sockets, devices) cannot be opened: ${this.path}`);
  }
}

class HostDir extends HostNode implements DirNode {
  readonly kind = "dir" as const;

  get version(): number {
    return -1;
  }

  #child(name: string): string {
    if (!isPlainName(name)) fail("PERM", `Invalid path component: ${JSON.stringify(name)}`);
    return this.path === "/" ? "/" + name : this.path + "/" + name;
  }

  #lstat(p: string): Deno.FileInfo | null {
    try {
      return Deno.lstatSync(p);
    } catch (e) {
      const err = mapHostError(e, p);
      if (err instanceof FsError && err.code === "NOENT") return null;
      throw err;
    }
  }

  lookup(name: string): VNode | null {
    const p = this.#child(name);
    this.ctx.confine(this.path);
    const st = this.#lstat(p);
    if (st === null) return null;
    if (st.isSymlink) return new HostSymlink(this.ctx, p);
    if (st.isDirectory) return new HostDir(this.ctx, p);
    if (st.isFile) return new HostFile(this.ctx, p);
    return new HostSpecial(this.ctx, p);
  }

  names(): readonly string[] {
    this.ctx.confine(this.path);
    try {
      const out: string[] = [];
      for (const e of Deno.readDirSync(this.path)) out.push(e.name);
      return out.sort();
    } catch (e) {
      throw mapHostError(e, this.path);
    }
  }

  #mutate<T>(name: string, op: (p: string) => T): T {
    const p = this.#child(name);
    this.ctx.writable(p);
    this.ctx.confine(this.path);
    try {
      return op(p);
    } catch (e) {
      throw mapHostError(e, p);
    }
  }

  createFile(name: string): FileNode {
    this.#mutate(name, (p) => Deno.openSync(p, { createNew: true, write: true }).close());
    return this.lookup(name) as FileNode;
  }

  mkdir(name: string): DirNode {
    this.#mutate(name, (p) => Deno.mkdirSync(p));
    return new HostDir(this.ctx, this.#child(name));
  }

  symlink(name: string, target: string): void {
    // The vfs never follows absolute targets, but other host programs would: keep them out.
    if (target.startsWith("/")) {
      fail("PERM", `Symlinks with absolute targets are not allowed in host mounts: ${target}`);
    }
    this.#mutate(name, (p) => Deno.symlinkSync(target, p));
  }

  link(name: string, node: VNode): void {
    if (node.kind === "dir") fail("PERM", `Cannot hard-link a directory: ${name}`);
    if (!(node instanceof HostNode) || node.ctx !== this.ctx) {
      fail("XDEV", `Cannot hard-link across file systems: ${name}`);
    }
    this.#mutate(name, (p) => Deno.linkSync(node.path, p));
  }

  unlink(name: string): void {
    this.#mutate(name, (p) => {
      const st = this.#lstat(p);
      if (st === null) fail("NOENT", `No such file or directory: ${name}`);
      if (st.isDirectory) fail("ISDIR", `Is a directory: ${name}`);
      Deno.removeSync(p);
    });
  }

  rmdir(name: string): void {
    this.#mutate(name, (p) => {
      const st = this.#lstat(p);
      if (st === null) fail("NOENT", `No such file or directory: ${name}`);
      if (!st.isDirectory) fail("NOTDIR", `Not a directory: ${name}`);
      Deno.removeSync(p);
    });
  }

  rename(name: string, to: DirNode, toName: string): void {
    if (!(to instanceof HostDir) || to.ctx !== this.ctx) {
      fail("XDEV", `Cannot rename across file systems: ${name}`);
    }
    const dst = to.#child(toName);
    to.ctx.confine(to.path);
    this.#mutate(name, (p) => {
      const src = this.#lstat(p);
      if (src === null) fail("NOENT", `No such file or directory: ${name}`);
      const existing = this.#lstat(dst);
      if (existing !== null) {
        if (src.isDirectory && !existing.isDirectory) fail("NOTDIR", `Not a directory: ${toName}`);
        if (!src.isDirectory && existing.isDirectory) fail("ISDIR", `Is a directory: ${toName}`);
      }
      Deno.renameSync(p, dst);
    });
  }
}
