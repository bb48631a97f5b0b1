/**
 * The overlay: a writable in-memory layer over a read-only lower directory (an app's package).
 * It is a {@link MemDir} tree that loads each directory's entries from the lower layer the first
 * time it is looked at. Files read through to the lower layer until their first write, which
 * copies them up. Deleting or renaming only changes the in-memory tree, so no whiteouts are
 * needed, and `diff.ts` can compare the tree with the lower layer to list what changed.
 *
 * @module
 */

import {
  type DirNode,
  type FileIo,
  type FileNode,
  FsIdentity,
  MemDir,
  MemFile,
  MemSymlink,
} from "./inode.ts";
import { MemFs } from "./mem_fs.ts";

/** A file whose contents still live in the lower layer until the first write. */
export class OverlayFile extends MemFile {
  /** The path (from the overlay root) this file had in the lower layer. */
  readonly origin: string;
  readonly lower: FileNode;
  /** The lower file's access and modification times when the overlay first saw it. */
  readonly baseAtim: bigint;
  readonly baseMtim: bigint;
  #io: FileIo | null = null;
  #copied = false;

  constructor(fs: FsIdentity, lower: FileNode, origin: string) {
    super(fs);
    this.lower = lower;
    this.origin = origin;
    const st = lower.stat();
    this.baseAtim = st.atim;
    this.baseMtim = st.mtim;
    this.setTimes(st.atim, st.mtim);
  }

  /** True once the contents were copied into memory (first write or truncate). */
  get copied(): boolean {
    return this.#copied;
  }

  #lowerIo(): FileIo {
    return this.#io ??= this.lower.open(false);
  }

  #copyUp(): void {
    if (this.#copied) return;
    const io = this.#lowerIo();
    const data = new Uint8Array(io.size());
    let off = 0;
    while (off < data.length) {
      const n = io.pread(data.subarray(off), off);
      if (n === 0) break;
      off += n;
    }
    io.close();
    this.#io = null;
    this.#copied = true;
    this.replace(data.subarray(0, off));
  }

  override get data(): Uint8Array {
    this.#copyUp();
    return super.data;
  }

  override size(): number {
    return this.#copied ? super.size() : this.#lowerIo().size();
  }

  override pread(dst: Uint8Array, pos: number): number {
    return this.#copied ? super.pread(dst, pos) : this.#lowerIo().pread(dst, pos);
  }

  override pwrite(src: Uint8Array, pos: number): number {
    this.#copyUp();
    return super.pwrite(src, pos);
  }

  override truncate(size: number): void {
    this.#copyUp();
    super.truncate(size);
  }
}

/** A directory of the overlay; `origin` is its lower path, or null when created in memory. */
export class OverlayDir extends MemDir {
  readonly origin: string | null;
  readonly lower: DirNode | null;
  #loaded: boolean;

  constructor(fs: FsIdentity, lower: DirNode | null, origin: string | null) {
    super(fs);
    this.lower = lower;
    this.origin = origin;
    this.#loaded = lower === null;
    if (lower !== null) {
      const st = lower.stat();
      this.setTimes(st.atim, st.mtim);
    }
  }

  protected override load(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    const lower = this.lower!;
    for (const name of lower.names()) {
      const node = lower.lookup(name);
      if (node === null) continue;
      const path = this.origin === "" ? name : `${this.origin}/${name}`;
      if (node.kind === "dir") {
        const d = new OverlayDir(this.fs, node, path);
        d.parent = this;
        this.entries.set(name, d);
      } else if (node.kind === "file") {
        this.entries.set(name, new OverlayFile(this.fs, node, path));
      } else {
        const l = new OverlaySymlink(this.fs, node.readlink(), path);
        this.entries.set(name, l);
      }
    }
  }

  protected override newDir(): MemDir {
    return new OverlayDir(this.fs, null, null);
  }
}

/** A symlink copied from the lower layer. */
export class OverlaySymlink extends MemSymlink {
  readonly origin: string;

  constructor(fs: FsIdentity, target: string, origin: string) {
    super(fs, target);
    this.origin = origin;
  }
}

/**
 * Creates a writable overlay over `lower` (typically {@link packageMount}).
 *
 * @example
 * ```ts
 * import { packageMount } from "./host_mount.ts";
 * const fs = overlay(packageMount("./app"));
 * fs.writeFile("tmp/state", "changed"); // only in memory; ./app is untouched
 * ```
 */
export function overlay(lower: DirNode): MemFs {
  return new MemFs(new OverlayDir(new FsIdentity(), lower, ""));
}
