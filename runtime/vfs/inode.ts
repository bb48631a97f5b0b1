/**
 * The node model of the vfs. A file system is a tree of {@link DirNode}s whose entries are files,
 * directories and symlinks. In-memory nodes ({@link MemFile}, {@link MemDir}, {@link MemSymlink})
 * are plain data; host mounts and overlays implement the same interfaces. Path resolution never
 * lives in a node: `resolve.ts` walks names one component at a time, so every backend is confined
 * the same way.
 *
 * @module
 */

import { fail } from "./errors.ts";

const encoder = new TextEncoder();

/** The three kinds of node. */
export type NodeKind = "file" | "dir" | "symlink";

/** What `stat` reports about a node. Times are nanoseconds since the Unix epoch. */
export interface NodeStat {
  dev: number;
  ino: number;
  kind: NodeKind;
  nlink: number;
  size: number;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

/** What every node answers. */
export interface NodeBase {
  readonly kind: NodeKind;
  /** True for nodes of read-only mounts: every write answers EROFS. */
  readonly readOnly: boolean;
  /** The file system's id; hard links and renames only work within one. */
  readonly dev: number;
  stat(): NodeStat;
  /** Sets the access and/or modification time; `null` leaves one unchanged. */
  setTimes(atim: bigint | null, mtim: bigint | null): void;
}

/** Byte access to an open regular file. Positions are absolute. */
export interface FileIo {
  pread(dst: Uint8Array, pos: number): number;
  pwrite(src: Uint8Array, pos: number): number;
  size(): number;
  truncate(size: number): void;
  sync(): void;
  close(): void;
  /** Stat of the open file itself (survives renames and unlinks); optional. */
  stat?(): NodeStat;
  /** Sets times on the open file itself; optional. */
  setTimes?(atim: bigint | null, mtim: bigint | null): void;
}

/** A regular file. */
export interface FileNode extends NodeBase {
  readonly kind: "file";
  /** Opens the contents; `write` asks for write access (EROFS on read-only mounts). */
  open(write: boolean): FileIo;
}

/** A symbolic link. Its target is resolved by the vfs, never by the host. */
export interface SymlinkNode extends NodeBase {
  readonly kind: "symlink";
  readlink(): string;
}

/** A directory. Names passed to it are single components: never empty, ".", ".." or with "/". */
export interface DirNode extends NodeBase {
  readonly kind: "dir";
  /** Changes on every mutation of the entry list, or is -1 when the backend cannot tell. */
  readonly version: number;
  lookup(name: string): VNode | null;
  /** Entry names in a stable order (not including "." and ".."). */
  names(): readonly string[];
  /** Creates an empty file; EEXIST when the name is taken. */
  createFile(name: string): FileNode;
  /** Creates a directory; EEXIST when the name is taken. */
  mkdir(name: string): DirNode;
  /** Creates a symlink holding `target` verbatim; EEXIST when the name is taken. */
  symlink(name: string, target: string): void;
  /** Adds a hard link to `node` (a file or symlink of the same fs). */
  link(name: string, node: VNode): void;
  /** Removes a non-directory; EISDIR for directories. */
  unlink(name: string): void;
  /** Removes an empty directory; ENOTDIR / ENOTEMPTY otherwise. */
  rmdir(name: string): void;
  /** Moves an entry with POSIX rename semantics (replacing a compatible target). */
  rename(name: string, to: DirNode, toName: string): void;
}

/** Any node. */
export type VNode = FileNode | DirNode | SymlinkNode;

/** The current real time in nanoseconds, as a (256 ns precise) number. */
export function nowNsNumber(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1e6);
}

/** The current real time in nanoseconds. */
export function nowNs(): bigint {
  return BigInt(nowNsNumber());
}

/** Identity of one in-memory file system: its device number and inode counter. */
export class FsIdentity {
  static #nextDev = 1;
  readonly dev: number;
  #nextIno = 1;

  constructor() {
    this.dev = FsIdentity.#nextDev++;
  }

  nextIno(): number {
    return this.#nextIno++;
  }
}

/** Timestamps shared by in-memory nodes; a write records a number and converts lazily. */
abstract class MemNode {
  abstract readonly kind: NodeKind;
  readonly fs: FsIdentity;
  readonly ino: number;
  nlink = 1;
  atim: bigint;
  #mtim: bigint;
  #ctim: bigint;
  #dirtyNs = 0;

  constructor(fs: FsIdentity) {
    this.fs = fs;
    this.ino = fs.nextIno();
    const t = nowNs();
    this.atim = t;
    this.#mtim = t;
    this.#ctim = t;
  }

  get dev(): number {
    return this.fs.dev;
  }

  get readOnly(): boolean {
    return false;
  }

  get mtim(): bigint {
    this.#flush();
    return this.#mtim;
  }

  get ctim(): bigint {
    this.#flush();
    return this.#ctim;
  }

  #flush(): void {
    if (this.#dirtyNs !== 0) {
      this.#mtim = this.#ctim = BigInt(this.#dirtyNs);
      this.#dirtyNs = 0;
    }
  }

  /** Marks content as modified now (mtime and ctime), without allocating. */
  touch(): void {
    this.#dirtyNs = nowNsNumber();
  }

  /** Marks metadata as changed now (ctime). */
  touchMeta(): void {
    this.#flush();
    this.#ctim = nowNs();
  }

  abstract size(): number;

  stat(): NodeStat {
    return {
      dev: this.fs.dev,
      ino: this.ino,
      kind: this.kind,
      nlink: this.nlink,
      size: this.size(),
      atim: this.atim,
      mtim: this.mtim,
      ctim: this.ctim,
    };
  }

  setTimes(atim: bigint | null, mtim: bigint | null): void {
    this.#flush();
    if (atim !== null) this.atim = atim;
    if (mtim !== null) this.#mtim = mtim;
    this.#ctim = nowNs();
  }
}

/** An in-memory regular file: one growable byte array. It is its own {@link FileIo}. */
export class MemFile extends MemNode implements FileNode, FileIo {
  readonly kind = "file" as const;
  #data: Uint8Array;
  #size: number;

  constructor(fs: FsIdentity, data?: Uint8Array) {
    super(fs);
    this.#data = data ?? new Uint8Array(0);
    this.#size = this.#data.length;
  }

  /** The contents (a view; copy it before keeping it). */
  get data(): Uint8Array {
    return this.#data.subarray(0, this.#size);
  }

  open(_write: boolean): FileIo {
    return this;
  }

  size(): number {
    return this.#size;
  }

  pread(dst: Uint8Array, pos: number): number {
    const size = this.#size;
    if (pos >= size) return 0;
    const n = Math.min(dst.length, size - pos);
    dst.set(this.#data.subarray(pos, pos + n));
    return n;
  }

  pwrite(src: Uint8Array, pos: number): number {
    if (src.length === 0) return 0; // writes nothing, even past the end (POSIX, wasmtime)
    const end = pos + src.length;
    if (end > this.#data.length) this.#grow(end);
    this.#data.set(src, pos);
    if (end > this.#size) this.#size = end;
    this.touch();
    return src.length;
  }

  truncate(size: number): void {
    if (size > this.#data.length) this.#grow(size);
    else if (size < this.#size) this.#data.fill(0, size, this.#size);
    this.#size = size;
    this.touch();
  }

  /** Replaces the contents (used by copy-up and by applying snapshots). */
  replace(data: Uint8Array): void {
    this.#data = data;
    this.#size = data.length;
    this.touch();
  }

  #grow(min: number): void {
    if (min > 2 ** 32) fail("FBIG", `File would grow past 4 GiB (${min} bytes)`);
    const cap = Math.max(min, Math.min(this.#data.length * 2, this.#data.length + (64 << 20)), 64);
    const next = new Uint8Array(cap);
    next.set(this.#data.subarray(0, this.#size));
    this.#data = next;
  }

  sync(): void {}
  close(): void {}
}

/** An in-memory symlink. */
export class MemSymlink extends MemNode implements SymlinkNode {
  readonly kind = "symlink" as const;
  readonly target: string;

  constructor(fs: FsIdentity, target: string) {
    super(fs);
    this.target = target;
  }

  readlink(): string {
    return this.target;
  }

  size(): number {
    return encoder.encode(this.target).length;
  }
}

/**
 * An in-memory directory: a Map of entries plus a cached name list for readdir cookies. Entries
 * may be nodes of other backends (a host mount is a {@link DirNode} stored as an entry).
 */
export class MemDir extends MemNode implements DirNode {
  readonly kind = "dir" as const;
  protected entries = new Map<string, VNode>();
  #names: string[] | null = null;
  #version = 0;
  /** The directory holding this one, or null for a root (used to refuse moving a dir into itself). */
  parent: MemDir | null = null;

  get version(): number {
    return this.#version;
  }

  size(): number {
    return 4096;
  }

  override stat(): NodeStat {
    const s = super.stat();
    s.nlink = 2 + this.#subdirs();
    return s;
  }

  #subdirs(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.kind === "dir") n++;
    return n;
  }

  /** Called before any access; overlays use it to load the lower layer lazily. */
  protected load(): void {}

  /** Builds the node for a new file; overlays and other backends override the node classes. */
  protected newFile(): MemFile {
    return new MemFile(this.fs);
  }

  protected newDir(): MemDir {
    return new MemDir(this.fs);
  }

  lookup(name: string): VNode | null {
    this.load();
    return this.entries.get(name) ?? null;
  }

  names(): readonly string[] {
    this.load();
    return this.#names ??= [...this.entries.keys()];
  }

  /** Inserts a node under `name`, replacing nothing (EEXIST when taken). Used by mounts too. */
  add(name: string, node: VNode): void {
    this.load();
    if (this.entries.has(name)) fail("EXIST", `File exists: ${name}`);
    this.#put(name, node);
  }

  #put(name: string, node: VNode): void {
    this.entries.set(name, node);
    if (node instanceof MemDir) node.parent = this;
    this.#changed();
  }

  #changed(): void {
    this.#names = null;
    this.#version++;
    this.touch();
  }

  createFile(name: string): FileNode {
    const f = this.newFile();
    this.add(name, f);
    return f;
  }

  mkdir(name: string): DirNode {
    const d = this.newDir();
    this.add(name, d);
    return d;
  }

  symlink(name: string, target: string): void {
    this.add(name, new MemSymlink(this.fs, target));
  }

  link(name: string, node: VNode): void {
    if (node.kind === "dir") fail("PERM", `Cannot hard-link a directory: ${name}`);
    if (!(node instanceof MemNode) || node.fs !== this.fs) {
      fail("XDEV", `Cannot hard-link across file systems: ${name}`);
    }
    this.add(name, node);
    node.nlink++;
    node.touchMeta();
  }

  unlink(name: string): void {
    const node = this.lookup(name);
    if (node === null) fail("NOENT", `No such file or directory: ${name}`);
    if (node.kind === "dir") fail("ISDIR", `Is a directory: ${name}`);
    this.#remove(name, node);
  }

  rmdir(name: string): void {
    const node = this.lookup(name);
    if (node === null) fail("NOENT", `No such file or directory: ${name}`);
    if (node.kind !== "dir") fail("NOTDIR", `Not a directory: ${name}`);
    if (node.names().length > 0) fail("NOTEMPTY", `Directory not empty: ${name}`);
    if (node.readOnly) fail("ROFS", `Cannot remove a mount point: ${name}`);
    this.#remove(name, node);
  }

  #remove(name: string, node: VNode): void {
    this.entries.delete(name);
    if (node instanceof MemNode) {
      node.nlink--;
      node.touchMeta();
    }
    if (node instanceof MemDir) node.parent = null;
    this.#changed();
  }

  rename(name: string, to: DirNode, toName: string): void {
    const node = this.lookup(name);
    if (node === null) fail("NOENT", `No such file or directory: ${name}`);
    if (!(to instanceof MemDir) || to.fs !== this.fs) {
      fail("XDEV", `Cannot rename across file systems: ${name}`);
    }
    if (!(node instanceof MemNode) || node.fs !== this.fs) {
      fail("XDEV", `Cannot rename a mount point: ${name}`);
    }
    const existing = to.lookup(toName);
    if (existing === node) return;
    if (node instanceof MemDir) {
      for (let d: MemDir | null = to; d !== null; d = d.parent) {
        if (d === node) fail("INVAL", `Cannot move a directory into itself: ${name}`);
      }
    }
    if (existing !== null) {
      if (node.kind === "dir") {
        if (existing.kind !== "dir") fail("NOTDIR", `Not a directory: ${toName}`);
        if (existing.names().length > 0) fail("NOTEMPTY", `Directory not empty: ${toName}`);
        to.rmdir(toName);
      } else {
        if (existing.kind === "dir") fail("ISDIR", `Is a directory: ${toName}`);
        to.unlink(toName);
      }
    }
    this.entries.delete(name);
    this.#changed();
    to.#put(toName, node);
    node.touchMeta();
  }
}

/** True when `name` is a single path component the vfs accepts. */
export function isPlainName(name: string): boolean {
  return name.length > 0 && name !== "." && name !== ".." && !name.includes("/") &&
    !name.includes("\0");
}
