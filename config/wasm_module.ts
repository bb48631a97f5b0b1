/**
 * A quick look inside a WebAssembly module, for `thaw validate`: is it valid, what does it import
 * and export, and how much memory does it start with.
 *
 * @module
 */

/** What {@linkcode inspectModule} found. */
export interface ModuleFacts {
  /** Import module names, e.g. `wasi_snapshot_preview1`, `wasix_32v1`. */
  readonly importModules: readonly string[];
  /** Exported function and memory names. */
  readonly exports: readonly string[];
  /** The memory's initial size in bytes (defined or imported), if the module has a memory. */
  readonly initialMemoryBytes?: number;
  /** The memory's maximum size in bytes, if declared. */
  readonly maxMemoryBytes?: number;
}

const PAGE = 65536;

/**
 * Compiles a module (V8 compiles lazily, so this is cheap) and reads its memory limits.
 *
 * @throws {WebAssembly.CompileError} when the bytes are not a valid module.
 * @example
 * ```ts
 * import { inspectModule } from "./wasm_module.ts";
 * const facts = await inspectModule(await Deno.readFile("examples/wcgi-hello/wcgi-hello.wasm"));
 * // facts.exports includes "_start"; facts.importModules is ["wasi_snapshot_preview1"]
 * ```
 */
export async function inspectModule(bytes: Uint8Array<ArrayBuffer>): Promise<ModuleFacts> {
  const module = await WebAssembly.compile(bytes);
  const importModules = [...new Set(WebAssembly.Module.imports(module).map((i) => i.module))];
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  const memory = memoryLimits(bytes);
  return {
    importModules,
    exports,
    ...(memory ? { initialMemoryBytes: memory.min * PAGE } : {}),
    ...(memory?.max !== undefined ? { maxMemoryBytes: memory.max * PAGE } : {}),
  };
}

/** Reads the first memory's limits from the import (2) or memory (5) section. */
function memoryLimits(bytes: Uint8Array): { min: number; max?: number } | undefined {
  let at = 8;
  const u32 = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  const name = () => {
    const len = u32();
    at += len;
  };
  const limits = () => {
    const flags = bytes[at++];
    const min = u32();
    const max = flags & 1 ? u32() : undefined;
    return { min, ...(max !== undefined ? { max } : {}) };
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = u32();
    const end = at + size;
    if (id === 2) {
      const count = u32();
      for (let i = 0; i < count; i++) {
        name();
        name();
        const kind = bytes[at++];
        if (kind === 0) u32(); // function: type index
        else if (kind === 1) { // table: reftype + limits
          at++;
          limits();
        } else if (kind === 2) return limits();
        else if (kind === 3) at += 2; // global: valtype + mutability
        else if (kind === 4) { // tag: attribute + type index
          at++;
          u32();
        } else return undefined;
      }
    } else if (id === 5) {
      return u32() > 0 ? limits() : undefined;
    }
    at = end;
  }
  return undefined;
}
