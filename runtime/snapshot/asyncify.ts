/**
 * The asyncify side of the snapshot hook (docs/ARCHITECTURE.md, "Snapshot hook").
 *
 * A blocking-capable syscall returns the {@link UNWIND} sentinel (directly, or as the value of its
 * promise) when the capturer's `beforeBlock` hook answered `"unwind"`. The wrapper built by
 * {@link AsyncifyController.wrap} then starts an asyncify unwind, so the guest's stack unwinds into
 * the asyncify buffer and the running export returns. On restore the controller starts a rewind;
 * the guest re-enters the same import, the wrapper stops the rewind and runs the syscall for real,
 * so the guest resumes inside the call it was waiting in.
 *
 * The buffer lives in the secondary memory `prepare` added (`__thaw_asyncify_memory`): the struct
 * `{ i32 current, i32 end }` at offset 0, the saved frames from offset 8.
 *
 * @module
 */

import { UNWIND } from "../wasi/mod.ts";
import type { PrepareInfo } from "./prepare.ts";

export { UNWIND };

/** Where the saved frames start in the asyncify buffer memory. */
const DATA_START = 8;

/** Asyncify state as `asyncify_get_state` reports it. */
export type AsyncifyState = "normal" | "unwinding" | "rewinding";
const STATES: AsyncifyState[] = ["normal", "unwinding", "rewinding"];

/** Thrown when asyncify cannot do what was asked; a host bug or an unprepared module. */
export class AsyncifyError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "AsyncifyError";
  }
}

interface AsyncifyExports {
  asyncify_start_unwind(ptr: number): void;
  asyncify_stop_unwind(): void;
  asyncify_start_rewind(ptr: number): void;
  asyncify_stop_rewind(): void;
  asyncify_get_state(): number;
}

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => unknown;

/**
 * Drives asyncify for one instance of a prepared module. Create it before instantiating (its
 * {@link wrap} goes into the import object), then {@link bind} it to the instance.
 *
 * @example
 * ```ts
 * const ctl = new AsyncifyController(info);
 * const imports = { wasi_snapshot_preview1: { ...wasi, fd_read: ctl.wrap(wasi.fd_read) } };
 * const instance = new WebAssembly.Instance(module, imports);
 * ctl.bind(instance);
 * ```
 */
export class AsyncifyController {
  #info: PrepareInfo;
  #exports: AsyncifyExports | null = null;
  #buffer: WebAssembly.Memory | null = null;
  #unwindReason: string | null = null;
  #onRewound: (() => void) | null = null;

  /** A controller for instances of the module `info` describes. */
  constructor(info: PrepareInfo) {
    if (info.asyncify !== "added") {
      throw new AsyncifyError(
        `The module's asyncify is "${info.asyncify}"; only modules asyncified by prepare can ` +
          "unwind inside a syscall (snapshot reactors and pre-asyncified modules with an empty stack)",
      );
    }
    this.#info = info;
  }

  /** Attaches the controller to the instance whose imports it wrapped. */
  bind(instance: WebAssembly.Instance): void {
    const ex = instance.exports as Record<string, unknown>;
    for (
      const name of [
        "asyncify_start_unwind",
        "asyncify_stop_unwind",
        "asyncify_start_rewind",
        "asyncify_stop_rewind",
        "asyncify_get_state",
      ]
    ) {
      if (typeof ex[name] !== "function") {
        throw new AsyncifyError(`The instance lacks the export ${name}; prepare the module first`);
      }
    }
    const mem = ex[this.#info.asyncifyMemory!];
    if (!(mem instanceof WebAssembly.Memory)) {
      throw new AsyncifyError(`The instance lacks the memory export ${this.#info.asyncifyMemory}`);
    }
    this.#exports = ex as unknown as AsyncifyExports;
    this.#buffer = mem;
  }

  /** The current asyncify state. */
  get state(): AsyncifyState {
    return STATES[this.#ex().asyncify_get_state()] ?? "normal";
  }

  /** The reason of the last unwind (the syscall's name), or null. */
  get unwindReason(): string | null {
    return this.#unwindReason;
  }

  /**
   * Wraps a blocking-capable import. Wrap the raw function, before any `WebAssembly.Suspending`.
   * `name` is recorded as the unwind reason.
   */
  wrap<F extends AnyFn>(fn: F, name = fn.name): F {
    const wrapped = (...args: unknown[]): unknown => {
      if (this.#exports !== null && this.#exports.asyncify_get_state() === 2) {
        this.#exports.asyncify_stop_rewind();
        const cb = this.#onRewound;
        this.#onRewound = null;
        cb?.();
      }
      const result = fn(...args);
      if (result === UNWIND) return this.#startUnwind(name);
      if (result instanceof Promise) {
        return result.then((v) => v === UNWIND ? this.#startUnwind(name) : v);
      }
      return result;
    };
    Object.defineProperty(wrapped, "name", { value: name });
    return wrapped as F;
  }

  #ex(): AsyncifyExports {
    if (this.#exports === null) throw new AsyncifyError("AsyncifyController.bind() was not called");
    return this.#exports;
  }

  #startUnwind(name: string): number {
    const buf = this.#buffer!;
    const view = new DataView(buf.buffer);
    view.setInt32(0, DATA_START, true);
    view.setInt32(4, buf.buffer.byteLength, true);
    this.#unwindReason = name;
    this.#ex().asyncify_start_unwind(0);
    // The return value is ignored: the guest is unwinding.
    return 0;
  }

  /**
   * Ends an unwind after the export returned, and gives back the saved frames (the rewind data).
   *
   * @throws {AsyncifyError} when the guest is not unwinding, or the buffer overflowed.
   */
  finishUnwind(): Uint8Array {
    const ex = this.#ex();
    if (ex.asyncify_get_state() !== 1) {
      throw new AsyncifyError("finishUnwind() called but the guest is not unwinding");
    }
    ex.asyncify_stop_unwind();
    const buf = this.#buffer!;
    const view = new DataView(buf.buffer);
    const current = view.getInt32(0, true);
    const end = view.getInt32(4, true);
    if (current > end) {
      throw new AsyncifyError(
        `The guest's stack (${current - DATA_START} bytes) overflowed the asyncify buffer ` +
          `(${end - DATA_START} bytes); prepare with a larger asyncifyPages`,
      );
    }
    return new Uint8Array(buf.buffer, DATA_START, current - DATA_START).slice();
  }

  /**
   * Loads rewind data and starts a rewind. Call the same export that unwound right after; the guest
   * re-enters the import it unwound from, and `onRewound` runs just before that import runs.
   */
  startRewind(data: Uint8Array, onRewound?: () => void): void {
    const buf = this.#buffer!;
    if (DATA_START + data.length > buf.buffer.byteLength) {
      throw new AsyncifyError(
        `Rewind data (${data.length} bytes) does not fit the asyncify buffer; the module and the ` +
          "journal do not belong together",
      );
    }
    new Uint8Array(buf.buffer).set(data, DATA_START);
    const view = new DataView(buf.buffer);
    view.setInt32(0, DATA_START + data.length, true);
    view.setInt32(4, buf.buffer.byteLength, true);
    this.#onRewound = onRewound ?? null;
    this.#ex().asyncify_start_rewind(0);
  }
}
