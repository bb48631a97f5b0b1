/**
 * {@link Process}: the per-instance context that every syscall table closes over. It owns args,
 * env, the fd table, the file system, the clock and random sources, the exit code, the blocking
 * hook for snapshots, and the boot facts (random bytes drawn, clock reads).
 *
 * @module
 */

import { type DirNode, type FileSystem, lookupPath, MemFs, stripSlash } from "../vfs/mod.ts";
import { RIGHTS_DIR, RIGHTS_DIR_WRITE, RIGHTS_FILE, RIGHTS_FILE_WRITE } from "./defs.ts";
import { ProcExit } from "./errors.ts";
import { FdTable } from "./fd_table.ts";
import { DirHandle, FileHandle } from "./file_handle.ts";
import type { BlockPoint, Handle, HandleDescription } from "./handle.ts";
import { GuestMemory } from "./memory.ts";
import { bytesInput, CallbackOutput, DenoInput, DenoOutput, NullHandle } from "./stdio.ts";

/**
 * Returned by a syscall (instead of an errno or a Promise) when the snapshot hook asked to unwind.
 * The asyncify wrapper of `runtime/snapshot` recognizes it; it must never reach the guest.
 */
export const UNWIND: unique symbol = Symbol.for("thaw.unwind");

/** What a syscall returns: an errno, a Promise of one (it blocks), or {@link UNWIND}. */
export type SyscallResult = number | Promise<number | typeof UNWIND> | typeof UNWIND;

/** The snapshot hook's answer. */
export type BlockDecision = "block" | "unwind";

/** Time sources in nanoseconds. */
export interface ClockSource {
  /** Nanoseconds since the Unix epoch. */
  realtime(): number;
  /** Nanoseconds since an arbitrary, fixed point. */
  monotonic(): number;
}

/** The default clocks: `performance.timeOrigin + performance.now()`, and `performance.now()`. */
export const systemClock: ClockSource = {
  realtime: () => Math.round((performance.timeOrigin + performance.now()) * 1e6),
  monotonic: () => Math.round(performance.now() * 1e6),
};

/** A preopened directory. */
export interface Preopen {
  /** The path the guest sees (`fd_prestat_dir_name`), for example "/" or "/data". */
  guestPath: string;
  /** The directory to expose; default: `path` (or `guestPath`) looked up in `fs`. */
  dir?: DirNode;
  /** A path inside `fs` to expose. @default guestPath */
  path?: string;
  /** Withhold write rights (the guest gets ENOTCAPABLE / EBADF on writes). @default false */
  readOnly?: boolean;
}

/** A stdin source: a handle, bytes or text, "inherit" (Deno's stdin) or "null". */
export type StdinOption = Handle | Uint8Array | string | "inherit" | "null";

/** A stdout/stderr sink: a handle, a callback (chunk valid during the call), "inherit" or "null". */
export type StdoutOption = Handle | ((chunk: Uint8Array) => void) | "inherit" | "null";

/** Options of {@link Process}. */
export interface ProcessOptions {
  /** argv, including argv[0]. @default ["main"] */
  args?: readonly string[];
  /** Environment variables. @default {} */
  env?: Readonly<Record<string, string>>;
  /** The file system. @default new MemFs() */
  fs?: FileSystem;
  /**
   * Preopened directories, as fds 3, 4, ... @default [{ guestPath: "/" }] when `fs` is given,
   * none otherwise.
   */
  preopens?: readonly Preopen[];
  /** @default "null" */
  stdin?: StdinOption;
  /** @default "null" */
  stdout?: StdoutOption;
  /** @default "null" */
  stderr?: StdoutOption;
  /** @default systemClock */
  clock?: ClockSource;
  /** Fills a buffer with random bytes. @default crypto.getRandomValues */
  random?: (buf: Uint8Array) => void;
  /**
   * Wrap blocking imports in `WebAssembly.Suspending` and call exports through
   * `WebAssembly.promising` (JSPI). Without it, a syscall that would block fails with a clear
   * host error, but exports can be called directly. @default true
   */
  jspi?: boolean;
}

const encoder = new TextEncoder();

function cryptoRandom(buf: Uint8Array): void {
  for (let off = 0; off < buf.length; off += 65536) {
    crypto.getRandomValues(buf.subarray(off, Math.min(off + 65536, buf.length)));
  }
}

/** NUL-terminated strings packed back to back, as `args_get` / `environ_get` write them. */
export interface PackedStrings {
  readonly count: number;
  readonly bytes: Uint8Array;
  /** Offsets of each string in `bytes`. */
  readonly offsets: readonly number[];
}

function pack(strings: readonly string[]): PackedStrings {
  const parts = strings.map((s) => encoder.encode(s));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  const offsets: number[] = [];
  let off = 0;
  for (const p of parts) {
    offsets.push(off);
    bytes.set(p, off);
    off += p.length + 1;
  }
  return { count: parts.length, bytes, offsets };
}

/**
 * The state of one guest process.
 *
 * @example
 * ```ts
 * import { MemFs } from "../vfs/mod.ts";
 * import { CollectOutput, importObject, Process } from "./mod.ts";
 * const out = new CollectOutput();
 * const proc = new Process({ args: ["app"], fs: new MemFs(), stdout: out });
 * const module = await WebAssembly.compile(await Deno.readFile("app.wasm"));
 * const instance = await WebAssembly.instantiate(module, importObject(proc));
 * const code = await proc.start(instance);
 * console.log(code, out.text());
 * ```
 */
export class Process {
  #args: readonly string[] = [];
  #env: readonly string[] = [];
  #packedArgs!: PackedStrings;
  #packedEnv!: PackedStrings;
  readonly fds = new FdTable();
  readonly mem = new GuestMemory();
  readonly fs: FileSystem;
  readonly clock: ClockSource;
  readonly random: (buf: Uint8Array) => void;
  readonly jspi: boolean;
  /** The exit code once the guest exited, else null. */
  exitCode: number | null = null;
  /** Boot facts: random bytes the guest drew, and clock reads it made. */
  randomBytesDrawn = 0;
  clockReads = 0;
  /** The instance once started or initialized. */
  instance: WebAssembly.Instance | null = null;
  /** Installed by the snapshot capturer; see {@link beforeBlock}. */
  blockHook: ((point: BlockPoint) => BlockDecision | Promise<BlockDecision>) | null = null;
  /** The working directory (guest path) for WASIX `getcwd`/`chdir`. */
  cwd = "/";

  constructor(options: ProcessOptions = {}) {
    this.setArgs(options.args ?? ["main"]);
    this.setEnv(options.env ?? {});
    this.fs = options.fs ?? new MemFs();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? cryptoRandom;
    this.jspi = options.jspi ?? true;
    const stdio = (h: Handle) => ({
      handle: h,
      rightsBase: h.maxRights,
      rightsInheriting: 0,
      fdflags: 0,
    });
    this.fds.insert(stdio(stdinHandle(options.stdin ?? "null")));
    this.fds.insert(stdio(stdoutHandle(options.stdout ?? "null", "stdout")));
    this.fds.insert(stdio(stdoutHandle(options.stderr ?? "null", "stderr")));
    const preopens = options.preopens ?? (options.fs ? [{ guestPath: "/" }] : []);
    for (const p of preopens) this.preopen(p);
  }

  /** argv, including argv[0]. */
  get args(): readonly string[] {
    return this.#args;
  }

  /** The environment as `KEY=value` strings. */
  get env(): readonly string[] {
    return this.#env;
  }

  /** args as `args_get` writes them. */
  get packedArgs(): PackedStrings {
    return this.#packedArgs;
  }

  /** env as `environ_get` writes them. */
  get packedEnv(): PackedStrings {
    return this.#packedEnv;
  }

  /** Replaces argv (for example after a snapshot restore). */
  setArgs(args: readonly string[]): void {
    this.#args = [...args];
    this.#packedArgs = pack(this.#args);
  }

  /** Replaces the environment (for example per WCGI request after a restore). */
  setEnv(env: Readonly<Record<string, string>> | readonly string[]): void {
    this.#env = Array.isArray(env)
      ? [...env as readonly string[]]
      : Object.entries(env as Record<string, string>).map(([k, v]) => `${k}=${v}`);
    this.#packedEnv = pack(this.#env);
  }

  /** Adds a preopened directory at the next free fd; returns the fd. */
  preopen(p: Preopen): number {
    const dir = p.dir ?? this.#lookupDir(p.path ?? p.guestPath);
    let base = RIGHTS_DIR;
    let inheriting = RIGHTS_DIR | RIGHTS_FILE;
    if (p.readOnly) {
      base &= ~RIGHTS_DIR_WRITE;
      inheriting &= ~(RIGHTS_DIR_WRITE | RIGHTS_FILE_WRITE);
    }
    return this.fds.insert({
      handle: new DirHandle(dir, p.guestPath),
      rightsBase: base,
      rightsInheriting: inheriting,
      fdflags: 0,
      preopenPath: p.guestPath,
    });
  }

  /**
   * Reopens a file or directory handle from its {@link Handle.describe} data (snapshot restore):
   * the guest path is resolved through the preopen with the longest matching guest path, and the
   * file position is restored. Other kinds are runtime/wasix's to rebuild.
   *
   * @throws {Error} for unknown kinds, or when no preopen holds the path.
   */
  reopen(desc: HandleDescription): Handle {
    const path = String(desc.path ?? "");
    let best: { dir: DirNode; guest: string } | null = null;
    for (const [, e] of this.fds.entries()) {
      const g = e.preopenPath;
      if (g === undefined || !(e.handle instanceof DirHandle)) continue;
      const prefix = g.endsWith("/") ? g : g + "/";
      if (
        (path === g || path.startsWith(prefix)) && (best === null || g.length > best.guest.length)
      ) {
        best = { dir: e.handle.dir, guest: g };
      }
    }
    if (best === null) throw new Error(`No preopened directory holds ${path}; cannot reopen it`);
    const rest = path.slice(best.guest.length).replace(/^\/+/, "") || ".";
    const node = lookupPath(best.dir, rest, true);
    if (desc.kind === "dir" && node.kind === "dir") return new DirHandle(node, path);
    if (desc.kind === "file" && node.kind === "file") {
      const readable = desc.readable !== false;
      const writable = desc.writable === true;
      const h = new FileHandle(node, node.open(writable), readable, writable, path);
      h.position = Number(desc.position ?? 0);
      return h;
    }
    throw new Error(`Cannot reopen a handle of kind ${desc.kind} at ${path}`);
  }

  #lookupDir(path: string): DirNode {
    const clean = stripSlash(path);
    const node = clean === "" ? this.fs.root : lookupPath(this.fs.root, clean, true);
    if (node.kind !== "dir") {
      throw new Error(`Preopen ${path} is not a directory in the file system`);
    }
    return node;
  }

  /**
   * Asked by every syscall right before it actually blocks. The default answers "block"; the
   * snapshot capturer sets {@link blockHook} (or a subclass overrides this) to answer "unwind".
   */
  beforeBlock(point: BlockPoint): BlockDecision | Promise<BlockDecision> {
    return this.blockHook === null ? "block" : this.blockHook(point);
  }

  /**
   * Blocks a syscall: asks {@link beforeBlock}, then waits for `wait` and runs `retry`. Returns
   * {@link UNWIND} (or a Promise of it, when the hook answered with a Promise) when the hook said
   * "unwind"; nothing has been consumed or written then. Used by syscall tables (also
   * runtime/wasix).
   */
  block(
    point: BlockPoint,
    wait: () => Promise<unknown>,
    retry: () => SyscallResult,
  ): SyscallResult {
    const decision = this.beforeBlock(point);
    if (decision === "unwind") return UNWIND;
    if (decision instanceof Promise) {
      this.#requireJspi(point);
      return decision.then((d) => d === "unwind" ? UNWIND : wait().then(retry));
    }
    this.#requireJspi(point);
    return wait().then(retry);
  }

  #requireJspi(point: BlockPoint): void {
    if (!this.jspi) {
      throw new Error(
        `${point.syscall} would block (${point.reason}), but this process was created with ` +
          `jspi: false; create it with jspi: true and call exports through WebAssembly.promising`,
      );
    }
  }

  /** Binds the instance's exported memory (called by {@link start} and {@link initialize}). */
  bind(instance: WebAssembly.Instance): void {
    this.instance = instance;
    const memory = instance.exports.memory;
    if (memory instanceof WebAssembly.Memory) this.mem.bind(memory);
    else if (this.mem.memory === null) {
      throw new Error('The module exports no memory named "memory"; bind one with proc.mem.bind()');
    }
  }

  /**
   * Runs a command module's `_start` and returns its exit code (0 when `_start` returns).
   *
   * @throws {Error} when the module has no `_start` (use {@link initialize}), or on a trap.
   */
  async start(instance: WebAssembly.Instance): Promise<number> {
    this.bind(instance);
    const start = instance.exports._start;
    if (typeof start !== "function") {
      throw new Error("The module has no _start export; it is a reactor: use proc.initialize()");
    }
    try {
      await this.call(start as () => unknown);
      this.exitCode = 0;
    } catch (e) {
      if (!(e instanceof ProcExit)) throw e;
      this.exitCode = e.code;
    }
    return this.exitCode;
  }

  /** Initializes a reactor: binds memory and runs `_initialize` when exported. */
  async initialize(instance: WebAssembly.Instance): Promise<void> {
    this.bind(instance);
    const init = instance.exports._initialize;
    if (typeof init === "function") await this.call(init as () => unknown);
  }

  /**
   * Calls a guest export so that blocking syscalls work: through `WebAssembly.promising` when
   * JSPI is on, directly otherwise.
   */
  call<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> {
    if (!this.jspi) return Promise.resolve(fn(...args) as Awaited<R>);
    // deno-lint-ignore no-explicit-any
    const wrapped = (WebAssembly as any).promising(fn) as (...args: A) => Promise<Awaited<R>>;
    return wrapped(...args);
  }
}

function stdinHandle(opt: StdinOption): Handle {
  if (opt === "inherit") return new DenoInput();
  if (opt === "null") return new NullHandle();
  if (typeof opt === "string" || opt instanceof Uint8Array) return bytesInput(opt);
  return opt;
}

function stdoutHandle(opt: StdoutOption, which: "stdout" | "stderr"): Handle {
  if (opt === "inherit") return new DenoOutput(which);
  if (opt === "null") return new NullHandle();
  if (typeof opt === "function") return new CallbackOutput(opt);
  return opt;
}
