/**
 * The Ruby runner's WASI backend on Thaw's own runtime/wasi `Process` and runtime/vfs.
 *
 * fd 0 is the request channel, fd 1 the response channel, fd 2 the log (one callback per line),
 * fd 3 the app package, preopened read-only at `/app`. The package is one MemFs per app, built
 * once and shared by every instance. Two locks keep instances from changing what another sees:
 * the preopen withholds write rights, and every file node reports `readOnly`, which also stops
 * `path_open` with `O_TRUNC` with EROFS (a second lock behind the rights check).
 *
 * @module
 */

import {
  CallbackOutput,
  lineSink,
  Process,
  RIGHTS_FD_READ,
  StreamHandle,
  wasiImports,
} from "../../wasi/mod.ts";
import { FsIdentity, MemDir, MemFile, MemFs, writeFileAt } from "../../vfs/mod.ts";
import type { RequestChannel } from "./channel.ts";
import type { GuestSystem, GuestSystemOptions } from "./system.ts";

class RequestInput extends StreamHandle {
  readonly #channel: RequestChannel;
  constructor(channel: RequestChannel) {
    super();
    this.#channel = channel;
  }
  override get maxRights(): number {
    return RIGHTS_FD_READ;
  }
  override read(dst: Uint8Array): number {
    const bytes = this.#channel.read(dst.length);
    dst.set(bytes);
    return bytes.length;
  }
  override pollReadable(): boolean {
    return true;
  }
}

class PackageFile extends MemFile {
  override get readOnly(): boolean {
    return true;
  }
}

class PackageDir extends MemDir {
  protected override newFile(): MemFile {
    return new PackageFile(this.fs);
  }
  protected override newDir(): MemDir {
    return new PackageDir(this.fs);
  }
}

const shared = new WeakMap<ReadonlyMap<string, Uint8Array>, Map<string, MemFs>>();

function packageFs(guestPath: string, files: ReadonlyMap<string, Uint8Array>): MemFs {
  const byPath = shared.get(files) ?? new Map<string, MemFs>();
  shared.set(files, byPath);
  let fs = byPath.get(guestPath);
  if (!fs) {
    fs = new MemFs(new PackageDir(new FsIdentity()));
    fs.mkdirp(guestPath);
    for (const [path, bytes] of files) writeFileAt(fs.root, `${guestPath}/${path}`, bytes);
    byPath.set(guestPath, fs);
  }
  return fs;
}

/** Builds a {@linkcode GuestSystem} on Thaw's WASI. */
export function createThawSystem(opts: GuestSystemOptions): GuestSystem {
  const mounts = Object.entries(opts.mounts);
  if (mounts.length !== 1) throw new Error("The Ruby runner mounts exactly one package");
  const [guestPath, files] = mounts[0];
  const proc = new Process({
    args: opts.args,
    env: opts.env,
    fs: packageFs(guestPath, files),
    preopens: [{ guestPath, readOnly: true }],
    stdin: new RequestInput(opts.stdin),
    stdout: new CallbackOutput((chunk) => opts.stdout.write(chunk)),
    stderr: new CallbackOutput(lineSink(opts.stderr)),
    // Requests are complete before Ruby reads them, but an app may still wait (sleep): the
    // runner calls Thaw::Rack.serve through JSPI so such a syscall suspends the guest.
    jspi: true,
  });
  return {
    imports: wasiImports(proc),
    attach(memory: WebAssembly.Memory) {
      proc.mem.bind(memory);
    },
    openFds() {
      return proc.fds.entries().map(([fd]) => fd);
    },
  };
}
