/**
 * One ruby.wasm instance serving a Rack app: booted from scratch, or restored from a memory
 * image. Both paths use the same prepared module (memory imported, data segments passive and
 * copied in by `thaw_init_data` only when booting, mutable globals exported), compiled once per
 * process into a {@linkcode RubyProgram}.
 *
 * @module
 */

import { readWholeFile } from "./read_file.ts";
import { RbValueTable, RubyAbi, RubyError } from "./abi.ts";
import { type Frame, FrameError, RequestChannel, ResponseChannel } from "./channel.ts";
import { jsInteropImports } from "./js_interop.ts";
import { RACK_PRELUDE } from "./prelude.ts";
import { createGuestSystem, type GuestSystem } from "./system.ts";
import {
  GLOBAL_EXPORT_PREFIX,
  INIT_DATA_EXPORT,
  MEMORY_IMPORT,
  type PreparedLayout,
  prepareRubyModule,
  readLayout,
} from "./wasm_module.ts";

import { APP_MOUNT, RUBY_ARGS } from "./prelude.ts";
const PAGE = 65536;

/** A prepared, compiled ruby.wasm: made once per process, shared by every instance. */
export interface RubyProgram {
  /** The prepared module: imports `thaw.memory`, passive data, globals exported. */
  readonly module: WebAssembly.Module;
  /** What the module's `thaw.prepared` section says. */
  readonly layout: PreparedLayout;
  /** Milliseconds spent preparing (section rewrite; 0 for bytes already prepared). */
  readonly prepareMs: number;
  /** Milliseconds spent compiling. */
  readonly compileMs: number;
}

/**
 * Compiles a ruby.wasm reactor, preparing it first unless the bytes are already prepared. Given a
 * URL of an already-prepared module (a deploy bundle's), it reads the file in one go
 * ({@linkcode readWholeFile}) and compiles it on V8's background threads.
 *
 * @example
 * ```ts ignore
 * const program = await loadRubyProgram(await Deno.readFile(RUBY_WASM_PATH));
 * const fromBundle = await loadRubyProgram(new URL("file:///srv/app/ruby.prepared.wasm"));
 * ```
 * @throws {WasmFormatError} if a URL names a module that was not prepared.
 */
export async function loadRubyProgram(source: Uint8Array | URL): Promise<RubyProgram> {
  const t0 = performance.now();
  if (source instanceof URL) {
    // Read in one go (a 30 MB read takes 5-30 ms), then compile on V8's background threads.
    // `compileStreaming(fetch(url))` was no faster in interleaved process-cold runs (the compile
    // itself dominates). And a Deno 2.9.6 process that exits while a `compileStreaming` is still
    // running panics (V8 "Check failed: validate_functions_job_handle_ == nullptr"), so a failed
    // start would crash instead of printing its error; `WebAssembly.compile` exits cleanly.
    const module = await WebAssembly.compile(await readWholeFile(source));
    return {
      module,
      layout: readLayout(module),
      prepareMs: 0,
      compileMs: performance.now() - t0,
    };
  }
  const prepared = await prepareRubyModule(source);
  const t1 = performance.now();
  const module = await WebAssembly.compile(prepared as Uint8Array<ArrayBuffer>);
  return {
    module,
    layout: readLayout(module),
    prepareMs: t1 - t0,
    compileMs: performance.now() - t1,
  };
}

/**
 * Wraps a module that was compiled elsewhere (the host compiles once per process and posts it
 * to instance Workers).
 *
 * @throws {WasmFormatError} if the module was not prepared.
 */
export function rubyProgramFromModule(module: WebAssembly.Module): RubyProgram {
  return { module, layout: readLayout(module), prepareMs: 0, compileMs: 0 };
}

/** The app's package: files by relative path, and the entry file. */
export interface RackApp {
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Entry file relative to the package root. @default "app.rb" */
  readonly entry?: string;
  /** Extra environment variables for the guest. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A memory image: what restore writes into a fresh memory, plus the mutable globals. */
export interface MemoryImage {
  /** Memory size in pages at capture. */
  readonly pages: number;
  /** Non-zero runs: offset and bytes (ascending, non-overlapping). */
  readonly runs: readonly { readonly offset: number; readonly bytes: Uint8Array }[];
  /** Mutable global values by global index. */
  readonly globals: readonly { readonly index: number; readonly value: number | bigint }[];
  /** When the snapshot was taken (ns since the epoch; 0 or absent: unknown), for `max_age`. */
  readonly snapshotTimeNs?: bigint;
}

/** Time spent in each phase of bringing an instance up, in milliseconds. */
export interface StartPhases {
  memory: number;
  instantiate: number;
  /** Boot only: `_initialize`, `ruby-init`, load path, prelude, app file. */
  init: number;
}

/** Options shared by {@linkcode RubyInstance.boot} and {@linkcode RubyInstance.restore}. */
export interface InstanceOptions {
  /** Receives each line the guest writes to stderr. @default console.error */
  readonly log?: (line: string) => void;
  /** A blank (all-zero) memory to use instead of a new one; a smaller one is grown. */
  readonly memory?: WebAssembly.Memory;
  /**
   * Restore only: `memory` already holds the image (a parked memory), so skip the copy.
   * Not the cold path; benchmarks report it apart.
   */
  readonly imageAlreadyInMemory?: boolean;
}

/** Makes a memory the prepared module accepts, `pages` long. */
export function newMemory(program: RubyProgram, pages: number): WebAssembly.Memory {
  const max = program.layout.memoryMaxPages;
  return new WebAssembly.Memory(
    max === undefined ? { initial: pages } : { initial: pages, maximum: max },
  );
}

/**
 * The guest was unwound from outside Ruby (a trap, or a host error inside an import), so the
 * instance is dead. It is a `WebAssembly.RuntimeError`, which the instance Worker treats as
 * fatal: it answers 502 and replaces the instance.
 */
export class GuestAbortedError extends WebAssembly.RuntimeError {
  constructor(cause: unknown) {
    super(
      `The Ruby guest was aborted and cannot serve more requests: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.name = "GuestAbortedError";
  }
}

/** A live Ruby guest with the Rack prelude and the app loaded. */
export class RubyInstance {
  readonly memory: WebAssembly.Memory;
  readonly phases: StartPhases;
  /** Milliseconds the last {@linkcode RubyInstance.serve} spent in the guest. */
  lastServeMs = 0;
  #instance: WebAssembly.Instance;
  #abi: RubyAbi;
  #stdin: RequestChannel;
  #stdout: ResponseChannel;
  #system: GuestSystem;
  #broken: GuestAbortedError | undefined;
  /** The program this instance runs. */
  readonly program: RubyProgram;

  private constructor(
    program: RubyProgram,
    instance: WebAssembly.Instance,
    abi: RubyAbi,
    channels: [RequestChannel, ResponseChannel],
    system: GuestSystem,
    memory: WebAssembly.Memory,
    phases: StartPhases,
  ) {
    this.#system = system;
    this.program = program;
    this.#instance = instance;
    this.#abi = abi;
    [this.#stdin, this.#stdout] = channels;
    this.memory = memory;
    this.phases = phases;
  }

  static #instantiate(
    program: RubyProgram,
    app: RackApp,
    memory: WebAssembly.Memory,
    log: (line: string) => void,
  ) {
    const stdin = new RequestChannel();
    const stdout = new ResponseChannel();
    const system: GuestSystem = createGuestSystem({
      args: RUBY_ARGS,
      env: { ...app.env },
      stdin,
      stdout,
      stderr: log,
      mounts: { [APP_MOUNT]: app.files },
    });
    const table = new RbValueTable();
    // The interop imports allocate through the instance they are imported into.
    const late: { exports?: WebAssembly.Exports } = {};
    const js = jsInteropImports({
      memory: () => memory,
      realloc: (a, b, c, d) =>
        (late.exports!.cabi_realloc as (...n: number[]) => number)(a, b, c, d),
    });
    system.attach(memory);
    const instance = new WebAssembly.Instance(program.module, {
      wasi_snapshot_preview1: system.imports,
      canonical_abi: { ...table.imports(), ...js.canonical },
      "rb-js-abi-host": js.host,
      [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory },
    });
    late.exports = instance.exports;
    return { instance, abi: new RubyAbi(instance, table), stdin, stdout, system };
  }

  /**
   * Boots Ruby from scratch: copies the module's data segments into a fresh memory
   * (`thaw_init_data`), then runs `_initialize`, `ruby-init`, `ruby-init-loadpath`, the Rack
   * prelude and the app file.
   *
   * @throws {RubyError} if the app file raises or defines no Rack app.
   */
  static async boot(
    program: RubyProgram,
    app: RackApp,
    opts: InstanceOptions = {},
  ): Promise<RubyInstance> {
    if (program.layout.restoreOnly) {
      throw new Error(
        "This is the restore-only variant of ruby.wasm (its data segments are empty): it " +
          "restores from a journal but cannot boot Ruby; boot with the full prepared module " +
          "(ruby.prepared.wasm in a bundle)",
      );
    }
    const t0 = performance.now();
    const memory = opts.memory ?? newMemory(program, program.layout.memoryMinPages);
    const t1 = performance.now();
    const { instance, abi, stdin, stdout, system } = RubyInstance.#instantiate(
      program,
      app,
      memory,
      opts.log ?? console.error,
    );
    const t2 = performance.now();
    (instance.exports[INIT_DATA_EXPORT] as () => void)();
    await abi.run("_initialize");
    await abi.init(RUBY_ARGS);
    await abi.initLoadpath();
    await abi.eval(RACK_PRELUDE);
    const entry = `${APP_MOUNT}/${app.entry ?? "app.rb"}`;
    await abi.eval(`Thaw::Rack.load_app(${JSON.stringify(entry)}); nil`);
    // The per-request entry point, kept in two globals so that snapshots carry it.
    const globals = program.layout.entryGlobals;
    if (globals) {
      const [recv, mid] = globals.map((i) =>
        instance.exports[GLOBAL_EXPORT_PREFIX + i] as WebAssembly.Global
      );
      recv.value = await abi.evalKept("Thaw::Rack");
      mid.value = abi.intern("serve");
    }
    const t3 = performance.now();
    return new RubyInstance(program, instance, abi, [stdin, stdout], system, memory, {
      memory: t1 - t0,
      instantiate: t2 - t1,
      init: t3 - t2,
    });
  }

  /**
   * Restores an instance from a memory image taken between requests (empty stack): writes the
   * image's non-zero runs into a blank memory, instantiates, and sets the mutable globals.
   * No guest code runs until the first request.
   */
  static restore(
    program: RubyProgram,
    app: RackApp,
    image: MemoryImage,
    opts: InstanceOptions = {},
  ): RubyInstance {
    const t0 = performance.now();
    let memory = opts.memory;
    if (memory) {
      // A larger blank memory is fine: the guest's allocator treats the extra pages as a
      // gap below its next sbrk. A smaller one grows to fit.
      const have = memory.buffer.byteLength / PAGE;
      if (have < image.pages) memory.grow(image.pages - have);
    } else {
      memory = newMemory(program, image.pages);
    }
    if (!opts.imageAlreadyInMemory) {
      const u8 = new Uint8Array(memory.buffer);
      for (const run of image.runs) u8.set(run.bytes, run.offset);
    }
    const t1 = performance.now();
    const { instance, abi, stdin, stdout, system } = RubyInstance.#instantiate(
      program,
      app,
      memory,
      opts.log ?? console.error,
    );
    for (const g of image.globals) {
      const global = instance.exports[GLOBAL_EXPORT_PREFIX + g.index];
      if (!(global instanceof WebAssembly.Global)) {
        throw new Error(
          `The image sets global ${g.index}, which this prepared module does not export: it was ` +
            "captured with another version of Thaw's Ruby preparation; redeploy the app",
        );
      }
      global.value = g.value;
    }
    const t2 = performance.now();
    return new RubyInstance(program, instance, abi, [stdin, stdout], system, memory, {
      memory: t1 - t0,
      instantiate: t2 - t1,
      init: 0,
    });
  }

  /**
   * Runs one request through `Thaw::Rack.serve`. `onFrame` receives the response frames as
   * the guest writes them; the call returns when the guest has finished the response.
   *
   * @throws {RubyError} if the runner's Ruby half itself raised (the app's own exceptions
   * become 500 responses inside the guest).
   */
  async serve(request: Uint8Array, onFrame: (frame: Frame) => void): Promise<void> {
    if (this.#broken) throw this.#broken;
    this.#stdin.push(request);
    this.#stdout.reset();
    this.#stdout.listen(onFrame);
    const t0 = performance.now();
    try {
      const entry = this.#entry();
      if (entry) await this.#abi.call(entry[0], entry[1]);
      else await this.#abi.eval("Thaw::Rack.serve");
      const broken = this.#stdout.takeError();
      if (broken) throw broken;
    } catch (err) {
      if (err instanceof FrameError) throw err;
      if (!(err instanceof RubyError)) {
        // Something unwound the guest from outside (a trap, a host error in an import): Ruby's
        // VM state is no longer trustworthy, so this instance serves nothing more.
        this.#broken = new GuestAbortedError(err);
        throw this.#broken;
      }
      throw err;
    } finally {
      this.lastServeMs = performance.now() - t0;
      this.#stdout.listen(undefined);
      if (this.#stdin.pending > 0) this.#stdin.read(this.#stdin.pending);
    }
  }

  /**
   * One of the instance's exports by name (`undefined` if it has none), e.g. the profiling
   * variant's `thaw_profile` memory (hints.ts).
   */
  exported(name: string): unknown {
    return this.#instance.exports[name];
  }

  /** The entry point's receiver and method id, if the module has them and they are set. */
  #entry(): [number, number] | undefined {
    const globals = this.program.layout.entryGlobals;
    if (!globals) return undefined;
    const [recv, mid] = globals.map((i) =>
      (this.#instance.exports[GLOBAL_EXPORT_PREFIX + i] as WebAssembly.Global).value as number
    );
    return recv !== 0 && mid !== 0 ? [recv, mid] : undefined;
  }

  /** The guest's open file descriptors. */
  openFds(): number[] {
    return this.#system.openFds();
  }

  /** Evaluates Ruby code and returns its String value (tests and tooling). */
  evalString(code: string): Promise<string> {
    return this.#abi.evalString(code);
  }

  /**
   * Captures the instance between requests: the non-zero pages of memory (coalesced into
   * runs) and the mutable globals.
   */
  capture(): MemoryImage {
    const u8 = new Uint8Array(this.memory.buffer);
    const pages = u8.length / PAGE;
    const runs: { offset: number; bytes: Uint8Array }[] = [];
    const words = new Uint32Array(this.memory.buffer);
    let start = -1;
    for (let p = 0; p < pages; p++) {
      let nonZero = false;
      for (let w = p * (PAGE / 4), end = w + PAGE / 4; w < end; w++) {
        if (words[w] !== 0) {
          nonZero = true;
          break;
        }
      }
      if (nonZero && start < 0) start = p;
      if (!nonZero && start >= 0) {
        runs.push({ offset: start * PAGE, bytes: u8.slice(start * PAGE, p * PAGE) });
        start = -1;
      }
    }
    if (start >= 0) runs.push({ offset: start * PAGE, bytes: u8.slice(start * PAGE) });
    const globals = this.program.layout.globals.map((g) => ({
      index: g.index,
      value: (this.#instance.exports[GLOBAL_EXPORT_PREFIX + g.index] as WebAssembly.Global)
        .value as number | bigint,
    }));
    return { pages, runs, globals };
  }
}
