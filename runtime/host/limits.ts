/**
 * Limits the host enforces per app: the memory limit (written into the module, so the guest's
 * `memory.grow` fails past it) and the per-request execution limit and pool bounds (enforced by
 * the instance pool).
 *
 * @module
 */

/** WebAssembly pages are 64 KiB. */
export const WASM_PAGE = 65536;

/**
 * The module cannot run under the memory limit, or is not a module at all.
 *
 * @example
 * ```ts
 * import { MemoryLimitError } from "./limits.ts";
 * console.assert(new MemoryLimitError("too small").name === "MemoryLimitError");
 * ```
 */
export class MemoryLimitError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "MemoryLimitError";
  }
}

class Cursor {
  constructor(readonly bytes: Uint8Array, public at = 0) {}
  u8(): number {
    if (this.at >= this.bytes.length) throw new MemoryLimitError("The module ends unexpectedly");
    return this.bytes[this.at++];
  }
  leb(): number {
    let result = 0;
    let shift = 0;
    while (true) {
      const byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new MemoryLimitError("The module has a malformed LEB128 number");
    }
  }
  skip(n: number) {
    this.at += n;
    if (this.at > this.bytes.length) throw new MemoryLimitError("The module ends unexpectedly");
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** Reads memory limits at the cursor and returns their re-encoding under `maxPages`. */
function rewriteLimits(c: Cursor, maxPages: number, limitBytes: number): number[] {
  const flags = c.u8();
  if (flags & 0x04) {
    throw new MemoryLimitError("memory64 modules are not supported by the memory limit");
  }
  const min = c.leb();
  const max = flags & 0x01 ? c.leb() : undefined;
  if (min > maxPages) {
    throw new MemoryLimitError(
      `The module needs at least ${min * WASM_PAGE} bytes of memory at start, more than ` +
        `capabilities.memory.limit (${limitBytes} bytes); raise the limit`,
    );
  }
  const newMax = max === undefined ? maxPages : Math.min(max, maxPages);
  return [flags | 0x01, ...leb(min), ...leb(newMax)];
}

function skipValType(c: Cursor) {
  const t = c.u8();
  // (ref null? ht) carries a heap type after it.
  if (t === 0x63 || t === 0x64) c.leb();
}

/**
 * Returns a copy of a module whose defined memories cannot grow past `limitBytes` (the module
 * itself when it has nothing to limit: no memory of its own, and imports left alone). The guest
 * sees `memory.grow` fail, as on a host with that much memory. Imported memories are limited
 * only with `imports: true`: the instantiator must then give them a maximum within the limit
 * (runners that create the memory themselves apply `InstanceSpec.memoryLimitBytes` instead).
 *
 * @throws {MemoryLimitError} when the module's initial memory already exceeds the limit.
 * @example
 * ```ts
 * import { limitMemory } from "./limits.ts";
 * // (module (memory 1))
 * const mod = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1]);
 * const limited = limitMemory(mod, 2 * 65536);
 * console.assert(WebAssembly.validate(limited));
 * ```
 */
export function limitMemory(
  module: Uint8Array,
  limitBytes: number,
  options: { imports?: boolean } = {},
): Uint8Array {
  const maxPages = Math.floor(limitBytes / WASM_PAGE);
  const c = new Cursor(module, 8);
  if (module.length < 8 || module[0] !== 0 || module[1] !== 0x61) {
    throw new MemoryLimitError("Not a WebAssembly module (bad magic number)");
  }
  const parts: Uint8Array[] = [module.subarray(0, 8)];
  let rewritten = false;
  while (c.at < module.length) {
    const start = c.at;
    const id = c.u8();
    const size = c.leb();
    const bodyStart = c.at;
    c.skip(size);
    if (id !== 2 && id !== 5) {
      parts.push(module.subarray(start, c.at));
      continue;
    }
    const body = new Cursor(module.subarray(bodyStart, bodyStart + size));
    const out: number[] = [];
    const count = body.leb();
    out.push(...leb(count));
    for (let i = 0; i < count; i++) {
      if (id === 5) {
        out.push(...rewriteLimits(body, maxPages, limitBytes));
        continue;
      }
      const entryStart = body.at;
      body.skip(body.leb()); // module name
      body.skip(body.leb()); // field name
      const kind = body.u8();
      if (kind === 2 && options.imports) {
        out.push(...body.bytes.subarray(entryStart, body.at));
        out.push(...rewriteLimits(body, maxPages, limitBytes));
        continue;
      }
      if (kind === 2) {
        const flags = body.u8();
        body.leb();
        if (flags & 1) body.leb();
      } else if (kind === 0) body.leb();
      else if (kind === 1) {
        skipValType(body);
        const flags = body.u8();
        body.leb();
        if (flags & 1) body.leb();
      } else if (kind === 3) {
        skipValType(body);
        body.u8();
      } else if (kind === 4) {
        body.u8();
        body.leb();
      } else throw new MemoryLimitError(`The module has an unknown import kind ${kind}`);
      out.push(...body.bytes.subarray(entryStart, body.at));
    }
    out.push(...body.bytes.subarray(body.at));
    if (id === 2 && !options.imports) {
      // Walked only to check it: the import section stays byte for byte.
      parts.push(module.subarray(start, c.at));
      continue;
    }
    rewritten = true;
    parts.push(new Uint8Array([id, ...leb(out.length), ...out]));
  }
  // Nothing to limit (no memory of its own, imports left alone): the module as it is, no copy.
  if (!rewritten) return module;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const result = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    result.set(part, at);
    at += part.length;
  }
  return result;
}
