/**
 * A driver for ruby.wasm's canonical-ABI exports (the legacy wit-bindgen `rb-abi-guest`
 * interface): `ruby-init`, `ruby-init-loadpath`, `rb-eval-string-protect`,
 * `rb-funcallv-protect`, `rb-errinfo`, `rstring-ptr`, and the `rb-abi-value` handles.
 *
 * Handle model: the guest owns boxed Ruby values (`wasm_val`, registered as GC roots) and asks
 * the host, through `canonical_abi.resource_new_rb-abi-value`, for a handle number. The host
 * keeps a table from handle to `wasm_val`. This driver owns each returned value exactly once
 * and releases it with `canonical_abi_drop_rb-abi-value` as soon as it has read it, so no
 * handle outlives a call: a snapshot taken between calls holds no host-side handle state.
 *
 * @module
 */

const encoder = new TextEncoder();
const ANSI_ESCAPE = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");
const decoder = new TextDecoder();

/** A Ruby exception that escaped `rb-eval-string-protect` or `rb-funcallv-protect`. */
export class RubyError extends Error {
  /** The `state` tag Ruby returned (non-zero). */
  readonly state: number;
  constructor(message: string, state: number) {
    super(message);
    this.name = "RubyError";
    this.state = state;
  }
}

/** Exports of a ruby.wasm reactor, as this driver uses them. */
interface RubyExports {
  memory: WebAssembly.Memory;
  cabi_realloc(old: number, oldSize: number, align: number, size: number): number;
  [name: string]: unknown;
}

type Fn = (...args: number[]) => number;

const EXPORT = {
  init: "ruby-init: func(args: list<string>) -> ()",
  initLoadpath: "ruby-init-loadpath: func() -> ()",
  eval: "rb-eval-string-protect: func(str: string) -> tuple<handle<rb-abi-value>, s32>",
  funcall:
    "rb-funcallv-protect: func(recv: handle<rb-abi-value>, mid: u32, args: list<handle<rb-abi-value>>) -> tuple<handle<rb-abi-value>, s32>",
  intern: "rb-intern: func(name: string) -> u32",
  errinfo: "rb-errinfo: func() -> handle<rb-abi-value>",
  clearErrinfo: "rb-clear-errinfo: func() -> ()",
  rstringPtr: "rstring-ptr: func(value: handle<rb-abi-value>) -> string",
  rstringPost: "cabi_post_rstring-ptr",
  drop: "canonical_abi_drop_rb-abi-value",
} as const;

/**
 * The host half of the `rb-abi-value` resource: the `canonical_abi` imports. One table per
 * instance; {@linkcode RubyAbi} reads it.
 */
export class RbValueTable {
  #values = new Map<number, number>();
  #next = 1;

  /** The `canonical_abi` functions ruby.wasm imports for `rb-abi-value`. */
  imports(): Record<string, (...args: number[]) => number | void> {
    return {
      "resource_new_rb-abi-value": (wasmVal: number) => {
        const h = this.#next++;
        this.#values.set(h, wasmVal);
        return h;
      },
      "resource_get_rb-abi-value": (h: number) => {
        const v = this.#values.get(h);
        if (v === undefined) throw new Error(`Ruby ABI: unknown rb-abi-value handle ${h}`);
        return v;
      },
      "resource_drop_rb-abi-value": (h: number) => {
        this.#values.delete(h);
      },
      "resource_clone_rb-abi-value": (h: number) => {
        const v = this.#values.get(h);
        if (v === undefined) throw new Error(`Ruby ABI: unknown rb-abi-value handle ${h}`);
        const n = this.#next++;
        this.#values.set(n, v);
        return n;
      },
    };
  }

  /** Removes a handle the guest returned and gives the boxed value it named. */
  take(h: number): number {
    const v = this.#values.get(h);
    if (v === undefined) throw new Error(`Ruby ABI: unknown rb-abi-value handle ${h}`);
    this.#values.delete(h);
    return v;
  }

  /** Lends a boxed value to the guest for one call. */
  lend(wasmVal: number): number {
    const h = this.#next++;
    this.#values.set(h, wasmVal);
    return h;
  }

  /** Number of live handles (0 between calls). */
  get size(): number {
    return this.#values.size;
  }
}

/**
 * Calls into a live ruby.wasm instance.
 *
 * @example
 * ```ts ignore
 * const table = new RbValueTable();
 * const instance = new WebAssembly.Instance(module, { canonical_abi: table.imports(), ... });
 * const ruby = new RubyAbi(instance, table);
 * await ruby.init(["ruby.wasm", "-EUTF-8", "-e_=0"]);
 * await ruby.initLoadpath();
 * console.log(await ruby.evalString("RUBY_VERSION")); // "3.4.x"
 * ```
 */
export class RubyAbi {
  #x: RubyExports;
  #table: RbValueTable;
  #promising = new Map<string, (...args: number[]) => Promise<number>>();

  constructor(instance: WebAssembly.Instance, table: RbValueTable) {
    this.#x = instance.exports as unknown as RubyExports;
    this.#table = table;
  }

  #fn(name: string): Fn {
    const f = this.#x[name];
    if (typeof f !== "function") {
      throw new Error(`ruby.wasm export "${name}" is missing; is this a ruby.wasm reactor build?`);
    }
    return f as Fn;
  }

  #view(): DataView {
    return new DataView(this.#x.memory.buffer);
  }

  /** Copies a string into guest memory. The guest reads names and code as C strings, so
   * callers that pass those append the NUL themselves. */
  #string(s: string): [number, number] {
    const bytes = encoder.encode(s);
    const ptr = this.#x.cabi_realloc(0, 0, 1, bytes.length);
    new Uint8Array(this.#x.memory.buffer, ptr, bytes.length).set(bytes);
    return [ptr, bytes.length];
  }

  /**
   * Calls an export through JSPI (`WebAssembly.promising`): the guest's blocking-capable WASI
   * imports are `WebAssembly.Suspending`, so any export that may reach them runs this way, and a
   * syscall that has to wait (a `sleep`) suspends the guest instead of failing.
   */
  run(name: string, ...args: number[]): Promise<number> {
    let f = this.#promising.get(name);
    if (!f) {
      f = (WebAssembly as unknown as {
        promising(f: Fn): (...args: number[]) => Promise<number>;
      }).promising(this.#fn(name));
      this.#promising.set(name, f);
    }
    return f(...args);
  }

  /** Runs `ruby_init` with the given argv (program name first). */
  async init(args: readonly string[]): Promise<void> {
    const list = this.#x.cabi_realloc(0, 0, 4, args.length * 8);
    const ptrs = args.map((a) => this.#string(a + "\0"));
    const dv = this.#view();
    ptrs.forEach(([p, n], i) => {
      dv.setInt32(list + i * 8, p, true);
      dv.setInt32(list + i * 8 + 4, n, true);
    });
    await this.run(EXPORT.init, list, args.length);
  }

  /** Sets up `$LOAD_PATH` for the bundled stdlib. */
  async initLoadpath(): Promise<void> {
    await this.run(EXPORT.initLoadpath);
  }

  #result(ret: number): number {
    const dv = this.#view();
    const value = this.#table.take(dv.getInt32(ret, true));
    const state = dv.getInt32(ret + 4, true);
    if (state !== 0) {
      this.#drop(value);
      throw new RubyError(this.#errorMessage(), state);
    }
    return value;
  }

  #drop(wasmVal: number): void {
    this.#fn(EXPORT.drop)(wasmVal);
  }

  #errorMessage(): string {
    const err = this.#table.take(this.#fn(EXPORT.errinfo)());
    this.#fn(EXPORT.clearErrinfo)();
    try {
      const mid = this.#intern("full_message");
      const ret = this.#fn(EXPORT.funcall)(this.#table.lend(err), mid, 0, 0);
      const dv = this.#view();
      const msg = this.#table.take(dv.getInt32(ret, true));
      const state = dv.getInt32(ret + 4, true);
      try {
        if (state !== 0) {
          this.#fn(EXPORT.clearErrinfo)();
          return "Ruby raised an exception whose message could not be read";
        }
        // full_message highlights for a tty; strip the escapes rather than pass kwargs.
        return this.#rstring(msg).replace(ANSI_ESCAPE, "").trimEnd();
      } finally {
        this.#drop(msg);
      }
    } finally {
      this.#drop(err);
    }
  }

  #intern(name: string): number {
    const [p, n] = this.#string(name + "\0");
    return this.#fn(EXPORT.intern)(p, n) >>> 0;
  }

  #rstring(wasmVal: number): string {
    const ret = this.#fn(EXPORT.rstringPtr)(this.#table.lend(wasmVal));
    const dv = this.#view();
    const ptr = dv.getInt32(ret, true);
    const len = dv.getInt32(ret + 4, true);
    const s = decoder.decode(new Uint8Array(this.#x.memory.buffer, ptr, len));
    this.#fn(EXPORT.rstringPost)(ret);
    return s;
  }

  /**
   * Evaluates Ruby code and returns its value as a boxed `rb-abi-value` that stays alive (the
   * guest keeps it, and its object, until it is dropped): for a value the host calls again and
   * again, such as the Rack runner's entry point.
   *
   * @throws {RubyError} with Ruby's `full_message` if the code raised.
   */
  async evalKept(code: string): Promise<number> {
    const [p, n] = this.#string(code + "\0");
    return this.#result(await this.run(EXPORT.eval, p, n));
  }

  /** The method id (`ID`) of `name`, interned. */
  intern(name: string): number {
    return this.#intern(name);
  }

  /**
   * Calls the method `mid` with no arguments on `recv` (a boxed value from
   * {@linkcode RubyAbi.evalKept}) and discards the result: no Ruby source is parsed.
   *
   * @throws {RubyError} with Ruby's `full_message` if the call raised.
   */
  async call(recv: number, mid: number): Promise<void> {
    const ret = await this.run(EXPORT.funcall, this.#table.lend(recv), mid, 0, 0);
    this.#drop(this.#result(ret));
  }

  /**
   * Evaluates Ruby code and discards its value.
   *
   * @throws {RubyError} with Ruby's `full_message` if the code raised.
   */
  async eval(code: string): Promise<void> {
    const [p, n] = this.#string(code + "\0");
    this.#drop(this.#result(await this.run(EXPORT.eval, p, n)));
  }

  /**
   * Evaluates Ruby code whose value is a String and returns it (decoded as UTF-8).
   *
   * @throws {RubyError} if the code raised or its value is not a String.
   */
  async evalString(code: string): Promise<string> {
    const [p, n] = this.#string(`(${code}).to_str\0`);
    const v = this.#result(await this.run(EXPORT.eval, p, n));
    try {
      return this.#rstring(v);
    } finally {
      this.#drop(v);
    }
  }
}
