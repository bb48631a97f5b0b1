/**
 * Instantiates a WebAssembly module with Thaw's WASI (and, when it asks for them, WASIX) imports,
 * and runs it: the one path `thaw run`, the tests and the instance Workers share.
 *
 * The steps are separate so callers can stop in between: {@link loadModule} (read and compile),
 * {@link checkImports} (every import is one Thaw provides, else one clear line naming it),
 * {@link instantiate} (build the {@link Process} and the import object, instantiate, bind memory,
 * initialize a reactor), and {@link runModule} (all of it, then `_start`, returning the exit
 * status). Every failure is an {@link InstantiateError} subclass carrying its facts.
 *
 * @module
 */

import {
  importObject,
  type Preopen,
  Process,
  type StdinOption,
  type StdoutOption,
  WASI_MODULE,
} from "../wasi/mod.ts";
import { type FileSystem, hostMount } from "../vfs/mod.ts";
import { WASIX_MODULE, wasixImports, type WasixImportsOptions } from "../wasix/mod.ts";

/** Base class of every error this module throws; `code` names the kind of failure. */
export class InstantiateError extends Error {
  /** A stable identifier of the failure kind, for callers that branch on it. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InstantiateError";
    this.code = code;
  }
}

/** The module file does not exist or cannot be read. */
export class ModuleNotFoundError extends InstantiateError {
  /** The path that was asked for. */
  readonly path: string;

  constructor(path: string, cause?: unknown) {
    super("module-not-found", `Cannot read ${path}: no such file; check the module path`, {
      cause,
    });
    this.name = "ModuleNotFoundError";
    this.path = path;
  }
}

/** The bytes are not a valid WebAssembly module (wrong magic, truncated, malformed section). */
export class InvalidModuleError extends InstantiateError {
  /** Where the bytes came from. */
  readonly path: string;
  /** V8's description of the first problem, for example "expected magic word 00 61 73 6d". */
  readonly reason: string;

  constructor(path: string, reason: string, cause?: unknown) {
    super(
      "invalid-module",
      `${path} is not a valid WebAssembly module: ${reason}; rebuild it or check that the file is complete`,
      { cause },
    );
    this.name = "InvalidModuleError";
    this.path = path;
    this.reason = reason;
  }
}

/** The module imports something Thaw does not provide (or provides as another kind). */
export class UnknownImportError extends InstantiateError {
  /** The import's module name, for example "wasi_snapshot_preview1" or "env". */
  readonly module: string;
  /** The import's field name. */
  readonly field: string;
  /** What the module expects: "function", "memory", "table" or "global". */
  readonly kind: string;

  constructor(module: string, field: string, kind: string, hint: string) {
    super(
      "unknown-import",
      `The module imports ${module}.${field} (${kind}), which Thaw does not provide; ${hint}`,
    );
    this.name = "UnknownImportError";
    this.module = module;
    this.field = field;
    this.kind = kind;
  }
}

/** A host directory to preopen does not exist or is not a directory. */
export class DirMappingError extends InstantiateError {
  /** The host path that was asked for. */
  readonly host: string;

  constructor(host: string, cause: unknown) {
    super(
      "dir-mapping",
      `Cannot preopen ${host}: ${
        cause instanceof Error ? cause.message : String(cause)
      }; pass an existing host directory`,
      { cause },
    );
    this.name = "DirMappingError";
    this.host = host;
  }
}

/** The module cannot be run the way it was asked (no `_start`, no exported memory). */
export class ModuleShapeError extends InstantiateError {
  constructor(message: string) {
    super("module-shape", message);
    this.name = "ModuleShapeError";
  }
}

/** The guest trapped (unreachable, out-of-bounds access, stack overflow, ...). */
export class GuestTrapError extends InstantiateError {
  /** The trap as V8 words it, for example "unreachable". */
  readonly trap: string;
  /** The guest's WebAssembly frames, innermost first ("__original_main (wasm function 12)"). */
  readonly frames: readonly string[];

  constructor(trap: string, frames: readonly string[], cause: unknown) {
    super("trap", `wasm trap: ${trap}`, { cause });
    this.name = "GuestTrapError";
    this.trap = trap;
    this.frames = frames;
  }
}

/** A host directory shown to the guest: wasmtime's `--dir HOST::GUEST`. */
export interface DirMapping {
  /** The host directory. */
  host: string;
  /** The path the guest sees (`fd_prestat_dir_name`). @default host */
  guest?: string;
  /** Refuse writes. @default false */
  readOnly?: boolean;
}

/** Options of {@link instantiate} and {@link runModule}. */
export interface InstantiateOptions {
  /** argv, including argv[0]. @default ["main.wasm"] */
  args?: readonly string[];
  /** Environment variables. @default {} */
  env?: Readonly<Record<string, string>>;
  /** Host directories to preopen, in order (fds 3, 4, ...). */
  dirs?: readonly DirMapping[];
  /** Virtual preopens (inside `fs`), after `dirs`. */
  preopens?: readonly Preopen[];
  /** The virtual file system behind `preopens`. */
  fs?: FileSystem;
  /** @default "null" */
  stdin?: StdinOption;
  /** @default "null" */
  stdout?: StdoutOption;
  /** @default "null" */
  stderr?: StdoutOption;
  /** See {@link Process}'s `jspi`. @default true */
  jspi?: boolean;
  /**
   * Extra import modules, or a function building them for the process (other engineers' tables).
   * They are merged over the WASI (and WASIX) ones.
   */
  imports?:
    | Record<string, WebAssembly.ModuleImports>
    | ((proc: Process) => Record<string, WebAssembly.ModuleImports>);
  /**
   * WASIX options, used when the module imports `wasix_32v1`; `false` never adds WASIX (the
   * module then fails {@link checkImports} unless `imports` provides it).
   * @default {}
   */
  wasix?: WasixImportsOptions | false;
  /**
   * Called with the process after the preopened directories exist and before instantiation: the
   * place to add fds (for example `preopenTcpListener(proc, "127.0.0.1:8080")`).
   */
  setup?: (proc: Process) => void | Promise<void>;
}

/** What {@link instantiate} built. */
export interface ThawInstance {
  readonly module: WebAssembly.Module;
  readonly instance: WebAssembly.Instance;
  readonly process: Process;
  /** "command" when the module exports `_start`, else "reactor" (already initialized). */
  readonly kind: "command" | "reactor";
}

/**
 * Reads and compiles a module file.
 *
 * @example
 * ```ts
 * const module = await loadModule("tests/guests/wasm/proc.wasm");
 * ```
 * @throws {ModuleNotFoundError} when the file cannot be read.
 * @throws {InvalidModuleError} when it is not valid WebAssembly.
 */
export async function loadModule(path: string): Promise<WebAssembly.Module> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.IsADirectory) {
      throw new InvalidModuleError(path, "it is a directory", e);
    }
    throw new ModuleNotFoundError(path, e);
  }
  return await compileModule(bytes, path);
}

/**
 * Compiles bytes into a module, naming `source` in the error.
 *
 * @throws {InvalidModuleError} when the bytes are not valid WebAssembly.
 */
export async function compileModule(
  bytes: Uint8Array,
  source = "module",
): Promise<WebAssembly.Module> {
  if (bytes.length === 0) throw new InvalidModuleError(source, "the file is empty");
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    const reason = e instanceof Error
      ? e.message.replace(/^WebAssembly\.compile\(\): /, "")
      : String(e);
    throw new InvalidModuleError(source, reason, e);
  }
}

function hintFor(module: string): string {
  if (module === WASI_MODULE) {
    return "it is not a wasi_snapshot_preview1 function (check the toolchain's WASI version)";
  }
  if (module === WASIX_MODULE) {
    return "runtime/wasix does not implement it yet (see docs/wasix.md for the supported calls)";
  }
  if (module === "wasi_unstable") {
    return "wasi_unstable (preview0) is not supported; rebuild the module for wasm32-wasi (preview1)";
  }
  if (module === "env") {
    return "the module was linked for another host (Emscripten?); rebuild it for wasm32-wasi " +
      "or pass the missing import through the `imports` option";
  }
  return `Thaw provides only ${WASI_MODULE} and ${WASIX_MODULE}; rebuild the module without ` +
    `"${module}" imports (code that embeds Thaw can pass a table for it through the \`imports\` ` +
    "option)";
}

function kindOf(value: unknown): string | null {
  if (typeof value === "function") return "function";
  // JSPI wraps blocking imports in WebAssembly.Suspending objects, which import as functions.
  // deno-lint-ignore no-explicit-any
  const suspending = (WebAssembly as any).Suspending;
  if (suspending !== undefined && value instanceof suspending) return "function";
  if (value instanceof WebAssembly.Memory) return "memory";
  if (value instanceof WebAssembly.Table) return "table";
  if (value instanceof WebAssembly.Global) return "global";
  // deno-lint-ignore no-explicit-any
  const tag = (WebAssembly as any).Tag;
  if (tag !== undefined && value instanceof tag) return "tag";
  return null;
}

/**
 * Checks that `imports` provides every import of `module`, with the right kind.
 *
 * @example
 * ```ts
 * checkImports(module, { wasi_snapshot_preview1: {} }); // throws for the first missing one
 * ```
 * @throws {UnknownImportError} for the first import that is missing or of another kind.
 */
export function checkImports(module: WebAssembly.Module, imports: WebAssembly.Imports): void {
  for (const imp of WebAssembly.Module.imports(module)) {
    const ns = imports[imp.module];
    const value = ns === undefined ? undefined : ns[imp.name];
    const kind = kindOf(value);
    if (kind === imp.kind) continue;
    const hint = value === undefined
      ? hintFor(imp.module)
      : `Thaw provides it as a ${kind ?? typeof value}`;
    throw new UnknownImportError(imp.module, imp.name, imp.kind, hint);
  }
}

function importsWasix(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.module === WASIX_MODULE);
}

/**
 * Builds the process and the import object, checks the imports, instantiates, binds the memory,
 * and initializes a reactor (`_initialize`). A command's `_start` is not run; see
 * {@link runModule} or call `process.start(instance)`.
 *
 * @example
 * ```ts
 * const module = await loadModule("app.wasm");
 * const { instance, process } = await instantiate(module, {
 *   args: ["app.wasm"],
 *   dirs: [{ host: "./data", guest: "/data" }],
 *   stdout: "inherit",
 * });
 * const code = await process.start(instance);
 * ```
 * @throws {DirMappingError} when a `dirs` entry is not an existing host directory.
 * @throws {UnknownImportError} when the module imports something Thaw does not provide.
 * @throws {ModuleShapeError} when the module exports no memory.
 * @throws {GuestTrapError} when a reactor's `_initialize` traps.
 */
export function instantiate(
  module: WebAssembly.Module,
  options: InstantiateOptions = {},
): Promise<ThawInstance> {
  return instantiateAs(module, options, false);
}

async function instantiateAs(
  module: WebAssembly.Module,
  options: InstantiateOptions,
  requireStart: boolean,
): Promise<ThawInstance> {
  const preopens: Preopen[] = (options.dirs ?? []).map((d) => {
    let dir;
    try {
      dir = hostMount(d.host, { readOnly: d.readOnly });
    } catch (e) {
      throw new DirMappingError(d.host, e);
    }
    return { guestPath: d.guest ?? d.host, dir, readOnly: d.readOnly };
  });
  preopens.push(...(options.preopens ?? []));
  const process = new Process({
    args: options.args ?? ["main.wasm"],
    env: options.env ?? {},
    fs: options.fs,
    preopens,
    stdin: options.stdin,
    stdout: options.stdout,
    stderr: options.stderr,
    jspi: options.jspi,
  });
  const extra: Record<string, WebAssembly.ModuleImports> = {};
  if (options.wasix !== false && importsWasix(module)) {
    extra[WASIX_MODULE] = wasixImports(process, options.wasix ?? {});
  }
  const given = typeof options.imports === "function"
    ? options.imports(process)
    : options.imports ?? {};
  Object.assign(extra, given);
  const imports = importObject(process, extra);
  checkImports(module, imports);
  const hasStart = WebAssembly.Module.exports(module).some((e) =>
    e.name === "_start" && e.kind === "function"
  );
  if (requireStart && !hasStart) {
    throw new ModuleShapeError(
      "The module has no _start export: it is a reactor or a library, not a command; " +
        "build it as a command (a C program with main) to run it",
    );
  }
  await options.setup?.(process);

  const instance = await WebAssembly.instantiate(module, imports);
  if (!(instance.exports.memory instanceof WebAssembly.Memory)) {
    throw new ModuleShapeError(
      'The module exports no memory named "memory"; WASI modules must export their memory',
    );
  }
  const kind = typeof instance.exports._start === "function" ? "command" : "reactor";
  if (kind === "reactor") {
    try {
      await process.initialize(instance);
    } catch (e) {
      throw asTrap(e);
    }
  } else {
    process.bind(instance);
  }
  return { module, instance, process, kind };
}

/**
 * Turns a WebAssembly `RuntimeError` into a {@link GuestTrapError}; anything else is returned
 * unchanged (it is a host bug and must surface as one).
 */
export function asTrap(e: unknown): unknown {
  const stack = e instanceof Error ? e.stack ?? "" : "";
  const frames = stack.split("\n")
    .filter((l) => l.includes("wasm://") || l.includes("wasm-function"))
    .map((l) => l.trim().replace(/^at /, ""));
  if (e instanceof WebAssembly.RuntimeError) return new GuestTrapError(e.message, frames, e);
  // V8 reports a guest's stack overflow as a RangeError; with guest frames on top it is a trap.
  if (e instanceof RangeError && /call stack/i.test(e.message) && isGuestFrame(stack)) {
    return new GuestTrapError("call stack exhausted", frames, e);
  }
  return e;
}

/** Whether the innermost frame of `stack` is WebAssembly (the guest), not host code. */
function isGuestFrame(stack: string): boolean {
  const first = stack.split("\n").find((l) => l.trim().startsWith("at "));
  return first !== undefined && (first.includes("wasm://") || first.includes("wasm-function"));
}

/**
 * Instantiates `module` and runs its `_start`, returning the exit status: the guest's
 * `proc_exit` code, or 0 when `_start` returns.
 *
 * @example
 * ```ts
 * const code = await runModule(await loadModule("hello.wasm"), {
 *   args: ["hello.wasm"],
 *   stdout: "inherit",
 *   stderr: "inherit",
 * });
 * ```
 * @throws {ModuleShapeError} when the module has no `_start` (a reactor cannot be run).
 * @throws {GuestTrapError} when the guest traps.
 * @throws {UnknownImportError} when the module imports something Thaw does not provide.
 */
export async function runModule(
  module: WebAssembly.Module,
  options: InstantiateOptions = {},
): Promise<number> {
  const { instance, process } = await instantiateAs(module, options, true);
  try {
    return await process.start(instance);
  } catch (e) {
    throw asTrap(e);
  }
}
