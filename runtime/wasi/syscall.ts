/**
 * The one wrapper every syscall goes through: a {@link WasiError} (or a vfs `FsError`) becomes
 * the returned errno, for immediate and for blocking (Promise) results; anything else is a host
 * bug and propagates as one. Blocking-capable imports are then wrapped in
 * `WebAssembly.Suspending`.
 *
 * @module
 */

import { FsError, nextHostEpoch } from "../vfs/mod.ts";
import { ERRNO_IO, ERRNO_NAMES } from "./defs.ts";
import { WasiError } from "./errors.ts";
import { fastBlocking } from "./fast_block.ts";
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

function settle(r: SyscallResult): SyscallResult {
  if (typeof r === "number" || typeof r === "symbol") return r;
  return r.then(undefined, asyncErrno);
}

function caught(err: unknown): number {
  const errno = errnoOf(err);
  if (errno === undefined) throw err;
  return errno;
}

/**
 * Wraps one syscall so that errors become errnos (see the module docs). The wrapper has the
 * syscall's exact arity: Wasm calls into a JS function of another arity pay for an arguments
 * adaptor on every call. Each call starts a new host-mount epoch (see `nextHostEpoch`), so host
 * directories are re-verified once per syscall.
 */
export function wrapSyscall(fn: Syscall): Syscall {
  switch (fn.length) {
    case 0:
      return () => {
        try {
          nextHostEpoch();
          return settle(fn());
        } catch (e) {
          return caught(e);
        }
      };
    case 1:
      return (a: unknown) => {
        try {
          nextHostEpoch();
          return settle(fn(a));
        } catch (e) {
          return caught(e);
        }
      };
    case 2:
      return (a: unknown, b: unknown) => {
        try {
          nextHostEpoch();
          return settle(fn(a, b));
        } catch (e) {
          return caught(e);
        }
      };
    case 3:
      return (a: unknown, b: unknown, c: unknown) => {
        try {
          nextHostEpoch();
          return settle(fn(a, b, c));
        } catch (e) {
          return caught(e);
        }
      };
    case 4:
      return (a: unknown, b: unknown, c: unknown, d: unknown) => {
        try {
          nextHostEpoch();
          return settle(fn(a, b, c, d));
        } catch (e) {
          return caught(e);
        }
      };
    case 5:
      return (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => {
        try {
          nextHostEpoch();
          return settle(fn(a, b, c, d, e));
        } catch (err) {
          return caught(err);
        }
      };
    case 6:
      return (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown) => {
        try {
          nextHostEpoch();
          return settle(fn(a, b, c, d, e, f));
        } catch (err) {
          return caught(err);
        }
      };
    case 7:
      return (
        a: unknown,
        b: unknown,
        c: unknown,
        d: unknown,
        e: unknown,
        f: unknown,
        g: unknown,
      ) => {
        try {
          nextHostEpoch();
          return settle(fn(a, b, c, d, e, f, g));
        } catch (err) {
          return caught(err);
        }
      };
    case 8:
      return (
        a: unknown,
        b: unknown,
        c: unknown,
        d: unknown,
        e: unknown,
        f: unknown,
        g: unknown,
        h: unknown,
      ) => {
        try {
          nextHostEpoch();
          return settle(fn(a, b, c, d, e, f, g, h));
        } catch (err) {
          return caught(err);
        }
      };
    case 9:
      return (
        a: unknown,
        b: unknown,
        c: unknown,
        d: unknown,
        e: unknown,
        f: unknown,
        g: unknown,
        h: unknown,
        i: unknown,
      ) => {
        try {
          nextHostEpoch();
          return settle(fn(a, b, c, d, e, f, g, h, i));
        } catch (err) {
          return caught(err);
        }
      };
    default:
      return (...args: unknown[]) => {
        try {
          nextHostEpoch();
          return settle(fn(...args));
        } catch (err) {
          return caught(err);
        }
      };
  }
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
  /**
   * Blocking imports whose parameters and result are all i32, with their parameter count: with
   * JSPI (and no `wrapBlocking`), these get a small Wasm adapter that only enters
   * `WebAssembly.Suspending` when the call really blocks, which saves 100-200 ns per call that
   * answers at once. @default none
   */
  i32Only?: ReadonlyMap<string, number>;
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
      const n = options.i32Only?.get(name);
      if (jspi && !options.wrapBlocking && n !== undefined) {
        out[name] = fastBlocking(w, n);
        continue;
      }
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
