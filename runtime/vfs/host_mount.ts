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

/**
 * The current host-operation epoch. A directory verified in this epoch is not verified again:
 * `runtime/wasi` starts a new epoch at every syscall (no guest code runs within one), and every
 * host mutation starts one too.
 */
let epoch = 0;

/** Starts a new epoch (called by the WASI layer at every syscall). */
export function nextHostEpoch(): void {
  epoch++;
}

class MountContext {
  readonly root: string;
  readonly readOnly: boolean;
  readonly dev = nextDev++;

  readonly #dirty = new Set<HostFileIo>();
  /** Bumped by every write through this mount; read-ahead buffers of older generations are void. */
  writeGen = 0;

  constructor(root: string, readOnly: boolean) {
    this.root = root;
    this.readOnly = readOnly;
  }

  /** Remembers a file with buffered writes; they are flushed when the guest next yields. */
  markDirty(io: HostFileIo): void {
    if (this.#dirty.size === 0) queueMicrotask(() => this.flushAll());
    this.#dirty.add(io);
  }

  /**
   * Writes out every buffered write of this mount. Called before any other host access, so
   * nothing (another fd, a stat, a listing) ever sees the file without its buffered bytes.
   */
  flushAll(): void {
    if (this.#dirty.size === 0) return;
    for (const io of this.#dirty) io.flush();
    this.#dirty.clear();
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
  const st = Deno.statSync(real);
  return new HostDir(new MountContext(real, options.readOnly ?? false), real, null, st);
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
  /** The directory this node was found in (null for the mount's root). */
  readonly parent: HostDir | null;

  constructor(ctx: MountContext, path: string, parent: HostDir | null) {
    this.ctx = ctx;
    this.path = path;
    this.parent = parent;
  }

  get readOnly(): boolean {
    return this.ctx.readOnly;
  }

  get dev(): number {
    return this.ctx.dev;
  }

  /** Checks that the directory holding this node is still the one found inside the mount. */
  confineParent(): void {
    if (this.parent !== null) this.parent.verify();
    if (this instanceof HostDir) this.verify();
  }

  stat(): NodeStat {
    this.ctx.flushAll();
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
      // Deno cannot set a symlink's own times; libc's utimensat can (when FFI is allowed).
      this.ctx.flushAll();
      this.confineParent();
      if (!setSymlinkTimes(this.path, atim, mtim)) {
        fail("NOTSUP", `Cannot set the times of a host symlink: ${this.path}`);
      }
      return;
    }
    const f = verifiedOpen(this, false, this.kind === "dir");
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

type Utimensat = (dirfd: number, path: Uint8Array, times: Uint8Array, flags: number) => number;
let utimensat: Utimensat | null | undefined;

/**
 * Sets the times of the symlink at `path` itself (`utimensat` with `AT_SYMLINK_NOFOLLOW`, through
 * Deno's FFI on Linux). `null` leaves a time unchanged. Returns false where that is unavailable
 * (another OS, or no FFI permission); throws a vfs error when the call fails.
 */
function setSymlinkTimes(path: string, atim: bigint | null, mtim: bigint | null): boolean {
  if (utimensat === undefined) {
    utimensat = null;
    if (Deno.build.os === "linux") {
      try {
        const lib = Deno.dlopen("libc.so.6", {
          utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
        });
        utimensat = (fd, p, t, f) => lib.symbols.utimensat(fd, p, t, f) as number;
      } catch {
        // No FFI permission or no glibc: symlink times stay unsupported.
      }
    }
  }
  if (utimensat === null) return false;
  const AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, UTIME_OMIT = (1 << 30) - 2;
  const times = new BigInt64Array(4);
  const put = (i: number, t: bigint | null) => {
    times[i] = t === null ? 0n : t / 1_000_000_000n;
    times[i + 1] = t === null ? BigInt(UTIME_OMIT) : t % 1_000_000_000n;
  };
  put(0, atim);
  put(2, mtim);
  const cpath = new TextEncoder().encode(`${path}\0`);
  const r = utimensat(AT_FDCWD, cpath, new Uint8Array(times.buffer), AT_SYMLINK_NOFOLLOW);
  if (r !== 0) fail("IO", `Cannot set the times of the host symlink ${path}`);
  return true;
}

/**
 * Opens a looked-up node and proves the open file is that node: the opened file's device and inode
 * must equal those the lookup found (with `lstat`, which never follows a final symlink), and the
 * containing directory must still be the one found inside the mount. A symlink swapped in since
 * the lookup is detected and the file closed.
 */
function verifiedOpen(node: HostNode, write: boolean, dir: boolean): Deno.FsFile {
  const path = node.path;
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path, { read: true, write });
  } catch (e) {
    throw mapHostError(e, path);
  }
  try {
    const opened = f.statSync();
    const want = node as HostNode & { hostDev: number; hostIno: number };
    if (
      opened.ino !== want.hostIno || opened.dev !== want.hostDev || opened.isDirectory !== dir
    ) {
      fail("PERM", `Host file changed since it was looked up (symlink race?): ${path}`);
    }
    node.confineParent();
    return f;
  } catch (e) {
    f.close();
    throw mapHostError(e, path);
  }
}

class HostFile extends HostNode implements FileNode {
  readonly kind = "file" as const;
  /** Device and inode found when the file was looked up; an open must land on this file. */
  readonly hostDev: number;
  readonly hostIno: number;

  constructor(ctx: MountContext, path: string, parent: HostDir | null, st: Deno.FileInfo) {
    super(ctx, path, parent);
    this.hostDev = st.dev;
    this.hostIno = st.ino ?? 0;
  }

  open(write: boolean): FileIo {
    if (write) this.ctx.writable(this.path);
    this.ctx.flushAll();
    return new HostFileIo(verifiedOpen(this, write, false), this.path, this.ctx, write);
  }
}

/** Writes smaller than this are gathered in a buffer (one host write per 64 KiB). */
const SMALL_WRITE = 4096;
const WRITE_BUFFER = 65536;
/** Read-only descriptors read this much ahead for reads of up to a quarter of it. */
const READ_AHEAD = 65536;

/**
 * An open host file. Small sequential writes are buffered (Deno's per-write op costs more than the
 * copy) and written out before any other access to the mount, when the buffer fills, on sync and
 * close, and when the guest next yields to the event loop. A failed delayed write is reported by
 * the next operation on the file (as `close` does on POSIX systems with write-back caches).
 */
class HostFileIo implements FileIo {
  #file: Deno.FsFile;
  #pos = 0;
  #wbuf: Uint8Array | null = null;
  #wstart = 0;
  #wlen = 0;
  #error: unknown = null;
  readonly path: string;
  readonly ctx: MountContext;

  readonly #writable: boolean;
  #rbuf: Uint8Array | null = null;
  #rstart = 0;
  #rlen = 0;
  #rgen = -1;

  constructor(file: Deno.FsFile, path: string, ctx: MountContext, writable: boolean) {
    this.#file = file;
    this.path = path;
    this.ctx = ctx;
    this.#writable = writable;
  }

  #raise(): void {
    const e = this.#error;
    if (e !== null) {
      this.#error = null;
      throw e;
    }
  }

  /** Writes out the buffered bytes; an error is kept for the next operation. */
  flush(): void {
    if (this.#wlen === 0) return;
    const data = this.#wbuf!.subarray(0, this.#wlen);
    const start = this.#wstart;
    this.#wlen = 0;
    try {
      this.#writeAll(data, start);
    } catch (e) {
      this.#error = mapHostError(e, this.path);
    }
  }

  #writeAll(data: Uint8Array, pos: number): void {
    try {
      if (pos !== this.#pos) this.#file.seekSync(pos, Deno.SeekMode.Start);
      let off = 0;
      while (off < data.length) off += this.#file.writeSync(data.subarray(off));
      this.#pos = pos + data.length;
    } catch (e) {
      this.#pos = -1;
      throw e;
    }
  }

  pread(dst: Uint8Array, pos: number): number {
    this.ctx.flushAll();
    this.#raise();
    const n = dst.length;
    if (!this.#writable && n <= READ_AHEAD / 4) {
      // Read-only descriptors read ahead 64 KiB; any write through this mount voids the buffer.
      const off = pos - this.#rstart;
      if (this.#rgen !== this.ctx.writeGen || off < 0 || off + n > this.#rlen) this.#fill(pos);
      const from = pos - this.#rstart;
      const take = Math.min(n, this.#rlen - from);
      if (take <= 0) return 0;
      dst.set(this.#rbuf!.subarray(from, from + take));
      return take;
    }
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

  #fill(pos: number): void {
    const buf = this.#rbuf ??= new Uint8Array(READ_AHEAD);
    this.#rgen = this.ctx.writeGen;
    this.#rstart = pos;
    this.#rlen = 0;
    try {
      if (pos !== this.#pos) this.#file.seekSync(pos, Deno.SeekMode.Start);
      let got = 0;
      while (got < buf.length) {
        const r = this.#file.readSync(buf.subarray(got));
        if (r === null || r === 0) break;
        got += r;
      }
      this.#pos = pos + got;
      this.#rlen = got;
    } catch (e) {
      this.#pos = -1;
      this.#rgen = -1;
      throw mapHostError(e, this.path);
    }
  }

  pwrite(src: Uint8Array, pos: number): number {
    this.#raise();
    this.ctx.writeGen++;
    const n = src.length;
    if (this.#wlen > 0 && pos === this.#wstart + this.#wlen && this.#wlen + n <= WRITE_BUFFER) {
      this.#wbuf!.set(src, this.#wlen);
      this.#wlen += n;
      return n;
    }
    this.ctx.flushAll();
    this.#raise();
    if (n < SMALL_WRITE) {
      (this.#wbuf ??= new Uint8Array(WRITE_BUFFER)).set(src, 0);
      this.#wstart = pos;
      this.#wlen = n;
      this.ctx.markDirty(this);
      return n;
    }
    try {
      this.#writeAll(src, pos);
      return n;
    } catch (e) {
      throw mapHostError(e, this.path);
    }
  }

  size(): number {
    this.ctx.flushAll();
    this.#raise();
    return this.#file.statSync().size;
  }

  truncate(size: number): void {
    this.ctx.flushAll();
    this.#raise();
    this.ctx.writeGen++;
    try {
      this.#file.truncateSync(size);
    } catch (e) {
      throw mapHostError(e, this.path);
    }
  }

  sync(): void {
    this.ctx.flushAll();
    this.#raise();
    this.#file.syncSync();
  }

  stat(): NodeStat {
    this.ctx.flushAll();
    this.#raise();
    try {
      return toStat(this.ctx, this.#file.statSync(), "file");
    } catch (e) {
      throw mapHostError(e, this.path);
    }
  }

  setTimes(atim: bigint | null, mtim: bigint | null): void {
    this.ctx.flushAll();
    this.#raise();
    if (this.ctx.readOnly) fail("ROFS", `Read-only mount: cannot modify ${this.path}`);
    try {
      const st = this.#file.statSync();
      const a = atim === null ? st.atime ?? new Date(0) : new Date(Number(atim / 1_000_000n));
      const m = mtim === null ? st.mtime ?? new Date(0) : new Date(Number(mtim / 1_000_000n));
      this.#file.utimeSync(a, m);
      this.ctx.writeGen++;
    } catch (e) {
      throw mapHostError(e, this.path);
    }
  }

  close(): void {
    this.ctx.flushAll();
    try {
      this.#raise();
    } finally {
      this.#file.close();
    }
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
  readonly #hostDev: number;
  readonly #hostIno: number;
  #verified = -1;

  /** Device and inode of the directory when it was looked up. */
  get hostDev(): number {
    return this.#hostDev;
  }

  get hostIno(): number {
    return this.#hostIno;
  }

  constructor(ctx: MountContext, path: string, parent: HostDir | null, st: Deno.FileInfo) {
    super(ctx, path, parent);
    this.#hostDev = st.dev;
    this.#hostIno = st.ino ?? 0;
  }

  /**
   * Checks that this directory's host path still leads to the directory found when it was looked
   * up (one lstat). A path component swapped for a symlink since then (by the guest, through a
   * stale directory fd, or by a host process) leads elsewhere and answers PERM, so the host never
   * follows it for a lookup or listing.
   */
  verify(): void {
    // The mount's root cannot be moved or replaced from inside the sandbox (it has no name there),
    // and its ancestors are host configuration; only directories below it need the check.
    if (this.#verified === epoch || this.parent === null) return;
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(this.path);
    } catch (e) {
      throw mapHostError(e, this.path);
    }
    if (!st.isDirectory || st.dev !== this.#hostDev || (st.ino ?? 0) !== this.#hostIno) {
      fail("PERM", `Host directory changed since it was opened (symlink swap?): ${this.path}`);
    }
    this.#verified = epoch;
  }

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
    this.ctx.flushAll();
    this.verify();
    const st = this.#lstat(p);
    if (st === null) return null;
    if (st.isSymlink) return new HostSymlink(this.ctx, p, this);
    if (st.isDirectory) return new HostDir(this.ctx, p, this, st);
    if (st.isFile) return new HostFile(this.ctx, p, this, st);
    return new HostSpecial(this.ctx, p, this, st);
  }

  /** Entry names, sorted (deterministic for overlays and snapshots). */
  names(): readonly string[] {
    return this.listing().names.sort();
  }

  /**
   * The entries with their kinds and inodes, in the host's directory order, from one directory
   * read and one `lstat` per entry. `fd_readdir` uses it: `d_ino` must equal what
   * `path_filestat_get` reports for the entry (wasmtime does so; wasi-testsuite checks it).
   */
  listing(): { names: string[]; kinds: VNode["kind"][]; inos: number[] } {
    this.ctx.flushAll();
    this.verify();
    this.ctx.confine(this.path);
    const names: string[] = [];
    const kinds: VNode["kind"][] = [];
    const inos: number[] = [];
    try {
      for (const e of Deno.readDirSync(this.path)) {
        names.push(e.name);
        kinds.push(e.isDirectory ? "dir" : e.isSymlink ? "symlink" : "file");
      }
    } catch (e) {
      throw mapHostError(e, this.path);
    }
    for (const name of names) {
      let ino = 0;
      try {
        ino = Deno.lstatSync(`${this.path}/${name}`).ino ?? 0;
      } catch {
        // Vanished since the directory read: the entry is still listed, without an inode.
      }
      inos.push(ino);
    }
    return { names, kinds, inos };
  }

  #mutate<T>(name: string, op: (p: string) => T): T {
    const p = this.#child(name);
    this.ctx.writable(p);
    this.ctx.flushAll();
    this.verify();
    this.ctx.confine(this.path);
    try {
      return op(p);
    } catch (e) {
      throw mapHostError(e, p);
    } finally {
      epoch++; // paths may have moved: verify again
      this.ctx.writeGen++; // and files may have been replaced
    }
  }

  createFile(name: string): FileNode {
    this.#mutate(name, (p) => Deno.openSync(p, { createNew: true, write: true }).close());
    return this.lookup(name) as FileNode;
  }

  mkdir(name: string): DirNode {
    this.#mutate(name, (p) => Deno.mkdirSync(p));
    const dir = this.lookup(name);
    if (dir === null || dir.kind !== "dir") fail("IO", `Directory vanished after mkdir: ${name}`);
    return dir;
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
