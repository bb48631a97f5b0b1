/**
 * The one wrapper every syscall goes through: a {@link WasiError} (or a vfs `FsError`) becomes
 * the returned errno, for immediate and for blocking (Promise) results; anything else is a host
 * bug and propagates as one. Blocking-capable imports are then wrapped in
 * `WebAssembly.Suspending`.
 *
 * @module
 */

import { FsError } from "../vfs/mod.ts";
import { ERRNO_IO, ERRNO_NAMES } from "./defs.ts";
import { WasiError } from "./errors.ts";
import type { SyscallResult } from "./process.ts";

/** A syscall implementation: takes the guest's i32 (number) and i64 (bigint) arguments. */
// deno-lint-ignore no-explicit-any
export type Syscall = (...args: any[]) => SyscallResult;

/** A family of syscalls, by import name. */
export type SyscallTable = Record<string, Syscall>;

/** Called after every syscall when tracing (`thaw run --trace`). */
export type TraceFn = (name: string, args: readonly unknown[], result: number | "blocked") => void;

const ERRNO_BY_NAME = new Map(ERRNO_NAMES.map((n, i) => [n, i]));

/**
 * The errno for an error thrown inside a syscall, or undefined when it is a host bug.
 *
 * @example
 * ```ts
 * import { ERRNO_NOENT } from "./defs.ts";
 * console.log(errnoOf(new WasiError("gone", ERRNO_NOENT))); // 44
 * console.log(errnoOf(new TypeError("bug"))); // undefined
 * ```
 */
export function errnoOf(e: unknown): number | undefined {
  if (e instanceof WasiError) return e.errno;
  if (e instanceof FsError) return ERRNO_BY_NAME.get(e.code) ?? ERRNO_IO;
  return undefined;
}

function asyncErrno(e: unknown): number {
  const errno = errnoOf(e);
  if (errno === undefined) throw e;
  return errno;
}

/** Wraps one syscall so that errors become errnos (see the module docs). */
export function wrapSyscall(fn: Syscall): Syscall {
  // Fixed parameters: no rest-array allocation on hot paths. preview1 has at most 9 params.
  return (
    a?: unknown,
    b?: unknown,
    c?: unknown,
    d?: unknown,
    e?: unknown,
    f?: unknown,
    g?: unknown,
    h?: unknown,
    i?: unknown,
    j?: unknown,
  ) => {
    try {
      const r = fn(a, b, c, d, e, f, g, h, i, j);
      if (typeof r === "number" || typeof r === "symbol") return r;
      return r.then(undefined, asyncErrno);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === undefined) throw err;
      return errno;
    }
  }; // deno-fmt-ignore
}

function traced(name: string, fn: Syscall, trace: TraceFn): Syscall {
  return (...args: unknown[]) => {
    const r = fn(...args);
    if (typeof r === "number") trace(name, args, r);
    else if (typeof r === "symbol") trace(name, args, "blocked");
    else {
      trace(name, args, "blocked");
      return r.then((n) => {
        trace(name, args, typeof n === "number" ? n : "blocked");
        return n;
      });
    }
    return r;
  };
}

/** Options of {@link buildImports}. */
export interface BuildImportsOptions {
  /** Wrap the blocking-capable imports in `WebAssembly.Suspending`. @default true */
  jspi?: boolean;
  /** Trace every call. */
  trace?: TraceFn;
  /**
   * Wraps each blocking-capable function (already error-wrapped) before it goes into
   * `WebAssembly.Suspending`; runtime/snapshot passes its asyncify controller's `wrap`.
   */
  wrapBlocking?: (name: string, fn: Syscall) => Syscall;
  /** The module name, passed to `wrapBlocking` as `"module.name"`. @default "" */
  moduleName?: string;
}

/**
 * Turns a syscall table into a Wasm import namespace: each function is wrapped by
 * {@link wrapSyscall}, and those named in `blocking` by `WebAssembly.Suspending` too.
 * `runtime/wasix` uses this for `wasix_32v1`.
 */
export function buildImports(
  table: SyscallTable,
  blocking: ReadonlySet<string>,
  options: BuildImportsOptions = {},
): WebAssembly.ModuleImports {
  const out: WebAssembly.ModuleImports = {};
  const jspi = options.jspi ?? true;
  for (const [name, fn] of Object.entries(table)) {
    let w = wrapSyscall(fn);
    if (options.trace) w = traced(name, w, options.trace);
    if (blocking.has(name)) {
      if (options.wrapBlocking) {
        w = options.wrapBlocking(options.moduleName ? `${options.moduleName}.${name}` : name, w);
      }
      // deno-lint-ignore no-explicit-any
      if (jspi) w = new (WebAssembly as any).Suspending(w);
    }
    out[name] = w;
  }
  return out;
}
