/**
 * The `rb-js-abi-host` imports of ruby.wasm's `js` extension, answered so that Ruby code that
 * touches JavaScript gets a clear Ruby exception instead of a trap.
 *
 * Thaw runs Ruby on WASI; there is no JavaScript object graph to hand to the guest. Every
 * import that can fail (`eval-js`, `reflect-get`, `reflect-set`, `reflect-apply`) returns the
 * `failure` variant, which the `js` extension turns into `JS::Error`; its message comes from
 * `js-value-to-string`, which returns the text below. Imports that cannot fail hand out a
 * placeholder handle, so the first real use of it raises.
 *
 * @module
 */

/** The message of the `JS::Error` Ruby code gets when it uses JavaScript interop. */
export const JS_INTEROP_MESSAGE = "JavaScript interop is not available on Thaw: this Ruby runs " +
  "on WASI without a JavaScript host, so JS.eval, JS.global and JS::Object calls cannot work. " +
  "Remove the `js` usage from the app";

const encoder = new TextEncoder();

/** Accessors the imports need from the instance they serve. */
export interface JsInteropTarget {
  memory(): WebAssembly.Memory;
  realloc(old: number, oldSize: number, align: number, size: number): number;
}

/** Builds the `rb-js-abi-host` and `canonical_abi` js-value imports for one instance. */
export function jsInteropImports(
  target: JsInteropTarget,
): {
  host: Record<string, (...a: number[]) => number | void>;
  canonical: Record<string, () => void>;
} {
  // Every js-abi-value handle names the same placeholder.
  const PLACEHOLDER = 1;
  const dv = () => new DataView(target.memory().buffer);
  const writeString = (s: string, out: number) => {
    const b = encoder.encode(s);
    const p = target.realloc(0, 0, 1, b.length);
    new Uint8Array(target.memory().buffer, p, b.length).set(b);
    dv().setInt32(out, p, true);
    dv().setInt32(out + 4, b.length, true);
  };
  const failure = (out: number) => {
    dv().setInt8(out, 1);
    dv().setInt32(out + 4, PLACEHOLDER, true);
  };
  const handle = () => PLACEHOLDER;
  const host: Record<string, (...a: number[]) => number | void> = {
    "rb_wasm_throw_prohibit_rewind_exception": () => {
      throw new Error("ruby.wasm: nested VM operation prohibited (JavaScript interop)");
    },
    "eval-js: func(code: string) -> variant { success(handle<js-abi-value>), failure(handle<js-abi-value>) }":
      (_p, _n, out) => failure(out),
    "is-js: func(value: handle<js-abi-value>) -> bool": () => 1,
    "instance-of: func(value: handle<js-abi-value>, klass: handle<js-abi-value>) -> bool": () => 0,
    "global-this: func() -> handle<js-abi-value>": handle,
    "int-to-js-number: func(value: s32) -> handle<js-abi-value>": handle,
    "float-to-js-number: func(value: float64) -> handle<js-abi-value>": handle,
    "string-to-js-string: func(value: string) -> handle<js-abi-value>": handle,
    "bool-to-js-bool: func(value: bool) -> handle<js-abi-value>": handle,
    "proc-to-js-function: func(value: u32) -> handle<js-abi-value>": handle,
    "rb-object-to-js-rb-value: func(raw-rb-abi-value: u32) -> handle<js-abi-value>": handle,
    "js-value-to-string: func(value: handle<js-abi-value>) -> string": (_h, out) =>
      writeString(JS_INTEROP_MESSAGE, out),
    "js-value-to-integer: func(value: handle<js-abi-value>) -> variant { as-float(float64), bignum(string) }":
      (_h, out) => {
        dv().setInt8(out, 0);
        dv().setFloat64(out + 8, 0, true);
      },
    "export-js-value-to-host: func(value: handle<js-abi-value>) -> ()": () => {},
    "import-js-value-from-host: func() -> handle<js-abi-value>": handle,
    "js-value-typeof: func(value: handle<js-abi-value>) -> string": (_h, out) =>
      writeString("undefined", out),
    "js-value-equal: func(lhs: handle<js-abi-value>, rhs: handle<js-abi-value>) -> bool": () => 0,
    "js-value-strictly-equal: func(lhs: handle<js-abi-value>, rhs: handle<js-abi-value>) -> bool":
      () => 0,
    "reflect-apply: func(target: handle<js-abi-value>, this-argument: handle<js-abi-value>, arguments: list<handle<js-abi-value>>) -> variant { success(handle<js-abi-value>), failure(handle<js-abi-value>) }":
      (_t, _a, _p, _n, out) => failure(out),
    "reflect-get: func(target: handle<js-abi-value>, property-key: string) -> variant { success(handle<js-abi-value>), failure(handle<js-abi-value>) }":
      (_t, _p, _n, out) => failure(out),
    "reflect-set: func(target: handle<js-abi-value>, property-key: string, value: handle<js-abi-value>) -> variant { success(handle<js-abi-value>), failure(handle<js-abi-value>) }":
      (_t, _p, _n, _v, out) => failure(out),
  };
  return { host, canonical: { "resource_drop_js-abi-value": () => {} } };
}
