/**
 * Handles over vfs nodes: {@link FileHandle} (a regular file with a cursor) and
 * {@link DirHandle} (a directory, with a cached listing that gives `fd_readdir` stable cookies).
 *
 * @module
 */

import type { DirNode, FileIo, FileNode, NodeStat, VNode } from "../vfs/mod.ts";
import {
  ERRNO_BADF,
  ERRNO_INVAL,
  FILETYPE_DIRECTORY,
  FILETYPE_REGULAR_FILE,
  FILETYPE_SYMBOLIC_LINK,
  RIGHTS_DIR,
  RIGHTS_FILE,
  WHENCE_CUR,
  WHENCE_END,
  WHENCE_SET,
} from "./defs.ts";
import { WasiError } from "./errors.ts";
import {
  Handle,
  type HandleDescription,
  type HandleDirent,
  type HandleStat,
  isDirError,
} from "./handle.ts";

const encoder = new TextEncoder();

/** The preview1 filetype of a vfs node kind. */
export function filetypeOf(kind: VNode["kind"]): number {
  return kind === "file"
    ? FILETYPE_REGULAR_FILE
    : kind === "dir"
    ? FILETYPE_DIRECTORY
    : FILETYPE_SYMBOLIC_LINK;
}

/** Converts a vfs stat to a handle stat. */
export function statOf(s: NodeStat): HandleStat {
  return {
    dev: s.dev,
    ino: s.ino,
    filetype: filetypeOf(s.kind),
    nlink: s.nlink,
    size: s.size,
    atim: s.atim,
    mtim: s.mtim,
    ctim: s.ctim,
  };
}

/** An open regular file of the vfs. */
export class FileHandle extends Handle {
  readonly node: FileNode;
  readonly io: FileIo;
  readonly readable: boolean;
  readonly writable: boolean;
  /** Guest path it was opened with (for snapshots and diagnostics). */
  readonly path: string;
  #pos = 0;

  constructor(node: FileNode, io: FileIo, readable: boolean, writable: boolean, path = "") {
    super();
    this.node = node;
    this.io = io;
    this.readable = readable;
    this.writable = writable;
    this.path = path;
  }

  override get filetype(): number {
    return FILETYPE_REGULAR_FILE;
  }

  override get maxRights(): number {
    return RIGHTS_FILE;
  }

  /** The cursor (also settable, for snapshot restore). */
  get position(): number {
    return this.#pos;
  }

  set position(pos: number) {
    this.#pos = pos;
  }

  override read(dst: Uint8Array): number {
    if (!this.readable) throw new WasiError("File is not open for reading", ERRNO_BADF);
    const n = this.io.pread(dst, this.#pos);
    this.#pos += n;
    return n;
  }

  override write(src: Uint8Array): number {
    if (!this.writable) throw new WasiError("File is not open for writing", ERRNO_BADF);
    const n = this.io.pwrite(src, this.#pos);
    this.#pos += n;
    return n;
  }

  override pread(dst: Uint8Array, pos: number): number {
    if (!this.readable) throw new WasiError("File is not open for reading", ERRNO_BADF);
    return this.io.pread(dst, pos);
  }

  override pwrite(src: Uint8Array, pos: number): number {
    if (!this.writable) throw new WasiError("File is not open for writing", ERRNO_BADF);
    return this.io.pwrite(src, pos);
  }

  override seek(offset: number, whence: number): number {
    let base: number;
    if (whence === WHENCE_SET) base = 0;
    else if (whence === WHENCE_CUR) base = this.#pos;
    else if (whence === WHENCE_END) base = this.io.size();
    else throw new WasiError(`Invalid whence ${whence}`, ERRNO_INVAL);
    const pos = base + offset;
    if (pos < 0) throw new WasiError(`Seek to a negative position (${pos})`, ERRNO_INVAL);
    this.#pos = pos;
    return pos;
  }

  override tell(): number {
    return this.#pos;
  }

  override stat(): HandleStat {
    return statOf(this.io.stat ? this.io.stat() : this.node.stat());
  }

  override setSize(size: number): void {
    if (!this.writable) throw new WasiError("File is not open for writing", ERRNO_BADF);
    this.io.truncate(size);
  }

  override setTimes(atim: bigint | null, mtim: bigint | null): void {
    if (this.io.setTimes) this.io.setTimes(atim, mtim);
    else this.node.setTimes(atim, mtim);
  }

  override allocate(offset: number, len: number): void {
    if (!this.writable) throw new WasiError("File is not open for writing", ERRNO_BADF);
    if (offset + len > this.io.size()) this.io.truncate(offset + len);
  }

  override advise(): void {}

  override sync(): void {
    this.io.sync();
  }

  override bytesReadable(): number {
    return Math.max(0, this.io.size() - this.#pos);
  }

  override close(): void {
    this.io.close();
  }

  override describe(): HandleDescription {
    return {
      kind: "file",
      path: this.path,
      position: this.#pos,
      readable: this.readable,
      writable: this.writable,
    };
  }
}

/** An open directory of the vfs. */
export class DirHandle extends Handle {
  readonly dir: DirNode;
  /** Guest path it was opened with ("" for a preopen's root is its guest path). */
  readonly path: string;
  /** The parent directory when known (for the ".." entry). */
  readonly parent: DirNode | null;
  #names: readonly string[] | null = null;
  #kinds: readonly VNode["kind"][] | null = null;
  #inos: readonly number[] | null = null;
  /** Reused for every entry: fd_readdir copies it out before asking for the next. */
  #dirent: HandleDirent = { name: DOT, ino: 0, filetype: FILETYPE_DIRECTORY };
  #version = -2;

  constructor(dir: DirNode, path = "", parent: DirNode | null = null) {
    super();
    this.dir = dir;
    this.path = path;
    this.parent = parent;
  }

  override get filetype(): number {
    return FILETYPE_DIRECTORY;
  }

  override get maxRights(): number {
    return RIGHTS_DIR;
  }

  override get maxInheritingRights(): number {
    return RIGHTS_DIR | RIGHTS_FILE;
  }

  override read(): number {
    isDirError();
  }

  override pread(): number {
    isDirError();
  }

  override write(): number {
    throw new WasiError("Cannot write to a directory", ERRNO_BADF);
  }

  override pwrite(): number {
    throw new WasiError("Cannot write to a directory", ERRNO_BADF);
  }

  override seek(): number {
    throw new WasiError("Cannot seek a directory (use fd_readdir cookies)", ERRNO_BADF);
  }

  override tell(): number {
    throw new WasiError("Cannot seek a directory (use fd_readdir cookies)", ERRNO_BADF);
  }

  override stat(): HandleStat {
    return statOf(this.dir.stat());
  }

  override setTimes(atim: bigint | null, mtim: bigint | null): void {
    this.dir.setTimes(atim, mtim);
  }

  override sync(): void {}

  override advise(): void {}

  override readdir(cookie: number): HandleDirent | null {
    const out = this.#dirent;
    if (cookie === 0) {
      out.name = DOT;
      out.next = 1;
      out.ino = this.dir.stat().ino;
      out.filetype = FILETYPE_DIRECTORY;
      return out;
    }
    if (cookie === 1) {
      out.name = DOTDOT;
      out.next = 2;
      out.ino = (this.parent ?? this.dir).stat().ino;
      out.filetype = FILETYPE_DIRECTORY;
      return out;
    }
    // Re-list when an in-memory directory changed, or at the start of a scan of a host one.
    const v = this.dir.version;
    if (this.#names === null || (v === -1 ? cookie === 2 : v !== this.#version)) {
      const dir = this.dir as DirNode & {
        listing?: () => {
          names: readonly string[];
          kinds: readonly VNode["kind"][];
          inos: readonly number[];
        };
      };
      if (dir.listing) {
        const l = dir.listing();
        this.#names = l.names;
        this.#kinds = l.kinds;
        this.#inos = l.inos;
      } else {
        this.#names = this.dir.names();
        this.#kinds = null;
      }
      this.#version = v;
    }
    const names = this.#names;
    const kinds = this.#kinds;
    if (kinds !== null) {
      // Host directories: kinds and inodes come from the listing.
      const i = cookie - 2;
      if (i >= names.length) return null;
      out.name = names[i];
      out.ino = this.#inos?.[i] ?? 0;
      out.filetype = filetypeOf(kinds[i]);
      out.next = cookie + 1;
      return out;
    }
    for (let i = cookie - 2; i < names.length; i++) {
      const node = this.dir.lookup(names[i]);
      if (node === null) continue; // vanished meanwhile (host directories)
      out.name = names[i];
      out.ino = (node as { ino?: number }).ino ?? node.stat().ino;
      out.filetype = filetypeOf(node.kind);
      out.next = i + 3;
      return out;
    }
    return null;
  }

  override describe(): HandleDescription {
    return { kind: "dir", path: this.path };
  }
}

const DOT = encoder.encode(".");
const DOTDOT = encoder.encode("..");
