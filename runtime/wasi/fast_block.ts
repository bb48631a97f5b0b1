/**
 * Blocking-capable imports without JSPI's per-call cost. A `WebAssembly.Suspending` import costs
 * about 100-200 ns per call even when it answers at once, which dominates small `fd_write`s. So
 * each such import is a tiny Wasm adapter instead: it calls the syscall as a plain import, and only
 * when the syscall returned a Promise (it blocks) does it call a second, Suspending import that
 * hands that Promise to JSPI. Only for imports whose parameters and result are all i32.
 *
 * @module
 */

import type { SyscallResult } from "./process.ts";
import type { Syscall } from "./syscall.ts";

const modules = new Map<number, WebAssembly.Module>();

/**
 * The adapter for `n` i32 parameters: imports `a.f` (the syscall, answering -1 when it blocks)
 * and `a.r` (Suspending: returns the pending result), exports `f`.
 */
function adapterModule(n: number): WebAssembly.Module {
  let m = modules.get(n);
  if (m !== undefined) return m;
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const I32 = 0x7f;
  const types = section(1, [2, 0x60, n, ...new Array(n).fill(I32), 1, I32, 0x60, 0, 1, I32]);
  const imports = section(2, [2, 1, 0x61, 1, 0x66, 0, 0, 1, 0x61, 1, 0x72, 0, 1]);
  const funcs = section(3, [1, 0]);
  const exports = section(7, [1, 1, 0x66, 0, 2]);
  const code: number[] = [1, 1, I32]; // one local: the result
  for (let i = 0; i < n; i++) code.push(0x20, i); // local.get i
  code.push(
    0x10,
    0, // call $fast
    0x22,
    n, // local.tee $r
    0x41,
    0x7f, // i32.const -1
    0x46, // i32.eq
    0x04,
    I32, // if (result i32)
    0x10,
    1, // call $resume
    0x05, // else
    0x20,
    n, // local.get $r
    0x0b, // end
    0x0b, // end
  );
  const body = [code.length, ...code];
  const codeSec = section(10, [1, ...body]);
  const bytes = new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...types,
    ...imports,
    ...funcs,
    ...exports,
    ...codeSec,
  ]);
  m = new WebAssembly.Module(bytes);
  modules.set(n, m);
  return m;
}

/** Builds the adapter for an error-wrapped syscall taking `n` i32 parameters. */
export function fastBlocking(fn: Syscall, n: number): WebAssembly.ExportValue {
  let pending: SyscallResult | null = null;
  const done = (r: SyscallResult): number => {
    if (typeof r === "number") return r;
    pending = r;
    return -1;
  };
  const resume = () => {
    const r = pending;
    pending = null;
    return r;
  };
  // deno-lint-ignore no-explicit-any
  const Suspending = (WebAssembly as any).Suspending;
  const inst = new WebAssembly.Instance(adapterModule(n), {
    a: { f: exact(fn, n, done), r: new Suspending(resume) },
  });
  return inst.exports.f;
}

/** A caller with exactly `n` parameters (Wasm-to-JS calls of another arity are slower). */
function exact(
  fn: Syscall,
  n: number,
  done: (r: SyscallResult) => number,
): (...args: number[]) => number {
  switch (n) {
    case 0:
      return () => done(fn());
    case 1:
      return (a) => done(fn(a));
    case 2:
      return (a, b) => done(fn(a, b));
    case 3:
      return (a, b, c) => done(fn(a, b, c));
    case 4:
      return (a, b, c, d) => done(fn(a, b, c, d));
    case 5:
      return (a, b, c, d, e) => done(fn(a, b, c, d, e));
    case 6:
      return (a, b, c, d, e, f) => done(fn(a, b, c, d, e, f));
    default:
      return (...args) => done(fn(...args));
  }
}

let clockModule: WebAssembly.Module | null = null;

/**
 * `clock_time_get(id: i32, precision: i64, ptr: i32)` as a Wasm adapter that drops the unused
 * precision, so no BigInt is made per call (the hottest syscall in many guests).
 */
export function clockAdapter(fn: Syscall): WebAssembly.ExportValue {
  if (clockModule === null) {
    const I32 = 0x7f, I64 = 0x7e;
    const section = (id: number, body: number[]) => [id, body.length, ...body];
    const code = [0, 0x20, 0, 0x20, 2, 0x10, 0, 0x0b]; // no locals; get 0; get 2; call 0; end
    clockModule = new WebAssembly.Module(
      new Uint8Array([
        0x00,
        0x61,
        0x73,
        0x6d,
        1,
        0,
        0,
        0,
        ...section(1, [2, 0x60, 2, I32, I32, 1, I32, 0x60, 3, I32, I64, I32, 1, I32]),
        ...section(2, [1, 1, 0x61, 1, 0x66, 0, 0]),
        ...section(3, [1, 1]),
        ...section(7, [1, 1, 0x66, 0, 1]),
        ...section(10, [1, code.length, ...code]),
      ]),
    ); // deno-fmt-ignore
  }
  const call = (id: number, ptr: number) => fn(id, 0n, ptr) as number;
  return new WebAssembly.Instance(clockModule, { a: { f: call } }).exports.f;
}
