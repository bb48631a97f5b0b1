/**
 * The Ruby runner's WASI backend on Thaw's own runtime/wasi `Process` and runtime/vfs.
 *
 * fd 0 is the request channel, fd 1 the response channel, fd 2 the log (one callback per line),
 * fd 3 the app package, preopened read-only at `/app`. The package's files live in one MemFs
 * per app, built once and shared by every instance: the preopen withholds write rights, so no
 * instance can change what another sees.
 *
 * @module
 */

import {
  CallbackOutput,
  Process,
  RIGHTS_FD_READ,
  StreamHandle,
  wasiImports,
} from "../../wasi/mod.ts";
import { MemFs, writeFileAt } from "../../vfs/mod.ts";
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

function lines(sink: (line: string) => void): (chunk: Uint8Array) => void {
  const decoder = new TextDecoder();
  let pending = "";
  return (chunk) => {
    pending += decoder.decode(chunk, { stream: true });
    const parts = pending.split("\n");
    pending = parts.pop()!;
    for (const p of parts) sink(p);
  };
}

const shared = new WeakMap<ReadonlyMap<string, Uint8Array>, MemFs>();

function packageFs(guestPath: string, files: ReadonlyMap<string, Uint8Array>): MemFs {
  let fs = shared.get(files);
  if (!fs) {
    fs = new MemFs();
    fs.mkdirp(guestPath);
    for (const [path, bytes] of files) writeFileAt(fs.root, `${guestPath}/${path}`, bytes);
    shared.set(files, fs);
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
    stderr: new CallbackOutput(lines(opts.stderr)),
    // The runner never lets the guest wait: requests are complete before Ruby reads them.
    jspi: false,
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
