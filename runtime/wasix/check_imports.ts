/**
 * {@link checkWasixImports}: what a module imports from WASIX that Thaw cannot give it, as clear
 * messages, before instantiation fails with a bare link error.
 *
 * @module
 */

import { Process, wasiSyscalls } from "../wasi/mod.ts";
import { wasixSyscalls } from "./syscalls.ts";
import { UNSUPPORTED_CALLS } from "./unsupported.ts";

/** One problem found by {@link checkWasixImports}. */
export interface ImportProblem {
  readonly module: string;
  readonly name: string;
  /** `"missing"`: instantiation will fail; `"unsupported"`: the call answers ENOTSUP. */
  readonly severity: "missing" | "unsupported";
  readonly message: string;
}

let known: Set<string> | null = null;

function knownNames(): Set<string> {
  if (known === null) {
    const proc = new Process({ jspi: false });
    known = new Set([...Object.keys(wasiSyscalls(proc)), ...Object.keys(wasixSyscalls(proc))]);
  }
  return known;
}

/**
 * Lists the WASIX imports of `module` that Thaw lacks (`missing`, instantiation would fail) or
 * answers with ENOTSUP (`unsupported`).
 *
 * @example
 * ```ts
 * const problems = checkWasixImports(await WebAssembly.compile(bytes));
 * for (const p of problems) console.error(p.message);
 * ```
 */
export function checkWasixImports(module: WebAssembly.Module): ImportProblem[] {
  const out: ImportProblem[] = [];
  const unsupported = new Set(UNSUPPORTED_CALLS);
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== "function") continue;
    if (imp.module === "wasix_64v1") {
      out.push({
        module: imp.module,
        name: imp.name,
        severity: "missing",
        message:
          `wasix_64v1.${imp.name}: 64-bit WASIX (memory64) is not supported; build for wasm32 (wasix_32v1)`,
      });
    } else if (imp.module === "wasix_32v1") {
      if (!knownNames().has(imp.name)) {
        out.push({
          module: imp.module,
          name: imp.name,
          severity: "missing",
          message: `wasix_32v1.${imp.name} is not implemented by Thaw (see docs/wasix.md)`,
        });
      } else if (unsupported.has(imp.name)) {
        out.push({
          module: imp.module,
          name: imp.name,
          severity: "unsupported",
          message: `wasix_32v1.${imp.name} answers ENOTSUP under Thaw (see docs/wasix.md)`,
        });
      }
    }
  }
  return out;
}
