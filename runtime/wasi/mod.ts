/**
 * Thaw's WASI preview1 host.
 *
 * A {@link Process} holds one guest's state (args, env, fds, vfs, clocks, exit code). Syscall
 * families (`args.ts`, `clock.ts`, `random.ts`, `fd.ts`, `path.ts`, `poll.ts`, `proc.ts`,
 * `sock.ts`) are tables `(proc) => Record<name, fn>`; {@link wasiImports} merges them and wraps
 * each through one error wrapper, and wraps the {@link BLOCKING_IMPORTS} in
 * `WebAssembly.Suspending` (JSPI). `proc.start(instance)` runs `_start` through
 * `WebAssembly.promising` and returns the exit code.
 *
 * Extending: subclass {@link Handle} for new kinds of descriptors (sockets, pipes), insert them
 * with `proc.fds.insert(...)`, and add more import modules with {@link importObject}'s `extra`
 * argument, built by {@link buildImports}.
 *
 * @example
 * ```ts
 * import { MemFs } from "../vfs/mod.ts";
 * import { CollectOutput, importObject, Process } from "./mod.ts";
 *
 * const fs = new MemFs();
 * fs.writeFile("/etc/greeting", "hello");
 * const stdout = new CollectOutput();
 * const proc = new Process({ args: ["hello"], env: { HOME: "/" }, fs, stdout });
 * const module = await WebAssembly.compile(await Deno.readFile("hello.wasm"));
 * const instance = await WebAssembly.instantiate(module, importObject(proc));
 * const code = await proc.start(instance);
 * console.log(code, stdout.text());
 * ```
 *
 * @module
 */

import { argsSyscalls } from "./args.ts";
import { clockSyscalls } from "./clock.ts";
import { fdSyscalls } from "./fd.ts";
import { pathSyscalls } from "./path.ts";
import { pollSyscalls } from "./poll.ts";
import type { Process } from "./process.ts";
import { procSyscalls } from "./proc.ts";
import { randomSyscalls } from "./random.ts";
import { sockSyscalls } from "./sock.ts";
import { clockAdapter } from "./fast_block.ts";
import {
  buildImports,
  type BuildImportsOptions,
  type SyscallTable,
  type TraceFn,
  wrapSyscall,
} from "./syscall.ts";

export * from "./defs.ts";
export { errnoName, ProcExit, WasiError } from "./errors.ts";
export { GuestMemory } from "./memory.ts";
export {
  type BlockPoint,
  type BlockReason,
  Handle,
  type HandleDescription,
  type HandleDirent,
  type HandleStat,
} from "./handle.ts";
export { type FdEntry, FdTable, MAX_FDS } from "./fd_table.ts";
export { DirHandle, FileHandle, filetypeOf, statOf } from "./file_handle.ts";
export {
  bytesInput,
  CallbackOutput,
  CollectOutput,
  DenoInput,
  DenoOutput,
  lineSink,
  NullHandle,
  QueueInput,
  StreamHandle,
} from "./stdio.ts";
export {
  type BlockDecision,
  type ClockSource,
  type PackedStrings,
  type Preopen,
  Process,
  type ProcessOptions,
  type StdinOption,
  type StdoutOption,
  type SyscallResult,
  systemClock,
  UNWIND,
} from "./process.ts";
export {
  buildImports,
  type BuildImportsOptions,
  errnoOf,
  type Syscall,
  type SyscallTable,
  type TraceFn,
  wrapSyscall,
} from "./syscall.ts";
export { clockNow } from "./clock.ts";

/** The preview1 import module name. */
export const WASI_MODULE = "wasi_snapshot_preview1";

/**
 * preview1 imports that may block and so are wrapped in `WebAssembly.Suspending` (and are the
 * only imports `runtime/snapshot` needs to asyncify).
 */
export const BLOCKING_IMPORTS: ReadonlySet<string> = new Set([
  "fd_read",
  "fd_write",
  "poll_oneoff",
  "sock_accept",
  "sock_recv",
  "sock_send",
]);

/** Parameter counts of the blocking preview1 imports (all take and return i32 only). */
const I32_BLOCKING: ReadonlyMap<string, number> = new Map([
  ["fd_read", 4],
  ["fd_write", 4],
  ["poll_oneoff", 4],
  ["sock_accept", 3],
  ["sock_recv", 6],
  ["sock_send", 5],
]);

/** {@link BLOCKING_IMPORTS} as `"wasi_snapshot_preview1.name"` strings (what prepare consumes). */
export const BLOCKING_QUALIFIED: readonly string[] = [...BLOCKING_IMPORTS].map((n) =>
  `wasi_snapshot_preview1.${n}`
);

/** All 46 preview1 syscalls of `proc`, unwrapped (raw tables, for composition and tests). */
export function wasiSyscalls(proc: Process): SyscallTable {
  return {
    ...argsSyscalls(proc),
    ...clockSyscalls(proc),
    ...fdSyscalls(proc),
    ...pathSyscalls(proc),
    ...pollSyscalls(proc),
    ...procSyscalls(proc),
    ...randomSyscalls(proc),
    ...sockSyscalls(proc),
  };
}

/** Options of {@link wasiImports}. */
export interface WasiImportsOptions {
  /** Trace every syscall (name, arguments, errno). */
  trace?: TraceFn;
  /** Replace or add syscalls (runtime/wasix's socket-aware versions, for example). */
  overrides?: SyscallTable;
  /** Extra names that may block (for overrides); added to {@link BLOCKING_IMPORTS}. */
  blocking?: Iterable<string>;
  /** See {@link BuildImportsOptions.wrapBlocking}: runtime/snapshot's asyncify hook. */
  wrapBlocking?: BuildImportsOptions["wrapBlocking"];
}

/**
 * The `wasi_snapshot_preview1` import namespace for `proc`: every syscall wrapped, blocking ones
 * in `WebAssembly.Suspending` when `proc.jspi` is on.
 */
export function wasiImports(
  proc: Process,
  options: WasiImportsOptions = {},
): WebAssembly.ModuleImports {
  const table = { ...wasiSyscalls(proc), ...options.overrides };
  const blocking = options.blocking
    ? new Set([...BLOCKING_IMPORTS, ...options.blocking])
    : BLOCKING_IMPORTS;
  const imports = buildImports(table, blocking, {
    jspi: proc.jspi,
    trace: options.trace,
    wrapBlocking: options.wrapBlocking,
    moduleName: WASI_MODULE,
    i32Only: I32_BLOCKING,
  });
  if (!options.trace && !blocking.has("clock_time_get")) {
    imports.clock_time_get = clockAdapter(wrapSyscall(table.clock_time_get));
  }
  return imports;
}

/**
 * The full import object: `wasi_snapshot_preview1` plus any `extra` modules (for example
 * `{ wasix_32v1: buildImports(wasixSyscalls(proc), WASIX_BLOCKING, { jspi: proc.jspi }) }`).
 */
export function importObject(
  proc: Process,
  extra: Record<string, WebAssembly.ModuleImports> = {},
  options: WasiImportsOptions = {},
): WebAssembly.Imports {
  return { [WASI_MODULE]: wasiImports(proc, options), ...extra };
}
