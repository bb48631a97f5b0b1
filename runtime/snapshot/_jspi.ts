/**
 * Typed access to JSPI (`WebAssembly.Suspending`, `WebAssembly.promising`), which TypeScript's lib
 * does not declare yet.
 * @module
 */

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => unknown;

const WA = WebAssembly as unknown as {
  Suspending: new (fn: AnyFn) => object;
  promising: (fn: AnyFn) => (...args: unknown[]) => Promise<unknown>;
};

/** Wraps a JS function so that a promise it returns suspends the calling Wasm stack. */
export function suspending(fn: AnyFn): WebAssembly.ImportValue {
  return new WA.Suspending(fn) as unknown as WebAssembly.ImportValue;
}

/** Wraps a Wasm export so that calling it returns a promise and lets its imports suspend. */
export function promising(fn: unknown): (...args: unknown[]) => Promise<unknown> {
  return WA.promising(fn as AnyFn);
}
