/**
 * Temporary WASI backend for the Ruby runner, on @bjorn3/browser_wasi_shim, used until
 * runtime/wasi's Process lands. Only system.ts imports this file.
 *
 * @module
 */

import {
  ConsoleStdout,
  Directory,
  Fd,
  File,
  type Inode,
  PreopenDirectory,
  WASI,
  wasi as defs,
} from "@bjorn3/browser_wasi_shim";
import type { GuestSystem, GuestSystemOptions } from "./system.ts";

class ChannelIn extends Fd {
  constructor(readonly read: (n: number) => Uint8Array) {
    super();
  }
  override fd_read(size: number): { ret: number; data: Uint8Array } {
    return { ret: 0, data: this.read(size) };
  }
  override fd_fdstat_get(): { ret: number; fdstat: InstanceType<typeof defs.Fdstat> } {
    const fdstat = new defs.Fdstat(defs.FILETYPE_CHARACTER_DEVICE, 0);
    // wasi-libc derives O_RDONLY from the rights; Ruby refuses to read an fd without them.
    fdstat.fs_rights_base = BigInt(defs.RIGHTS_FD_READ);
    return { ret: 0, fdstat };
  }
}

function tree(files: ReadonlyMap<string, Uint8Array>): Map<string, Inode> {
  const root = new Map<string, Inode>();
  const dirs = new Map<string, Map<string, Inode>>([["", root]]);
  const dirOf = (path: string): Map<string, Inode> => {
    let d = dirs.get(path);
    if (d) return d;
    const cut = path.lastIndexOf("/");
    const parent = dirOf(cut < 0 ? "" : path.slice(0, cut));
    d = new Map();
    dirs.set(path, d);
    parent.set(path.slice(cut + 1), new Directory(d));
    return d;
  };
  for (const p of [...files.keys()].sort()) {
    const cut = p.lastIndexOf("/");
    dirOf(cut < 0 ? "" : p.slice(0, cut)).set(
      p.slice(cut + 1),
      new File(files.get(p)!, { readonly: true }),
    );
  }
  return root;
}

/** Builds a shim-backed {@linkcode GuestSystem}. */
export function createShimSystem(opts: GuestSystemOptions): GuestSystem {
  const fds: Fd[] = [
    new ChannelIn((n) => opts.stdin.read(n)),
    new ConsoleStdout((b) => opts.stdout.write(b)),
    ConsoleStdout.lineBuffered((line) => opts.stderr(line)),
  ];
  for (const [guestPath, files] of Object.entries(opts.mounts)) {
    fds.push(new PreopenDirectory(guestPath, tree(files)));
  }
  const w = new WASI(
    [...opts.args],
    Object.entries(opts.env).map(([k, v]) => `${k}=${v}`),
    fds,
  );
  return {
    imports: w.wasiImport as unknown as WebAssembly.ModuleImports,
    attach(memory: WebAssembly.Memory) {
      w.inst = { exports: { memory } };
    },
  };
}
