import { join } from "node:path";

/** The smallest valid core module: magic and version 1. */
export const WASM = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

/** Writes files (text, or bytes) into a fresh temp dir and returns its path. */
export async function tempApp(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "thaw-config-" });
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
  }
  return dir;
}

export const APP = (pkg: string, extra = "") =>
  `kind: wasmer.io/App.v0\nname: t\npackage: ${pkg}\n${extra}`;

const enc = new TextEncoder();
const str = (s: string) => [s.length, ...enc.encode(s)];
const section = (id: number, content: number[]) => [id, content.length, ...content];

/** Options for {@linkcode buildModule}: a tiny hand-assembled core module. */
export interface ModuleShape {
  /** Imported functions as [module, name]. */
  importFuncs?: [string, string][];
  /** An imported memory as [module, name, minPages]. */
  importMemory?: [string, string, number];
  /** A defined memory as [minPages, maxPages?]. */
  memory?: [number, number?];
  /** Export a `_start` function. @default {true} */
  start?: boolean;
  /** Export an `_initialize` function. */
  initialize?: boolean;
}

/** Assembles a valid module with the given imports, memory and exports (all sizes < 128). */
export function buildModule(shape: ModuleShape = {}): Uint8Array<ArrayBuffer> {
  const imports: number[][] = (shape.importFuncs ?? []).map((
    [m, n],
  ) => [...str(m), ...str(n), 0, 0]);
  if (shape.importMemory) {
    const [m, n, min] = shape.importMemory;
    imports.push([...str(m), ...str(n), 2, 0, min]);
  }
  const funcs = (shape.importFuncs ?? []).length;
  const exported: number[][] = [];
  const bodies: number[][] = [];
  for (const name of [shape.start ?? true ? "_start" : "", shape.initialize ? "_initialize" : ""]) {
    if (name === "") continue;
    exported.push([...str(name), 0, funcs + bodies.length]);
    bodies.push([2, 0, 0x0b]);
  }
  const bytes = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, [1, 0x60, 0, 0])];
  if (imports.length > 0) bytes.push(...section(2, [imports.length, ...imports.flat()]));
  if (bodies.length > 0) bytes.push(...section(3, [bodies.length, ...bodies.map(() => 0)]));
  if (shape.memory) {
    const [min, max] = shape.memory;
    bytes.push(...section(5, max === undefined ? [1, 0, min] : [1, 1, min, max]));
  }
  if (exported.length > 0) bytes.push(...section(7, [exported.length, ...exported.flat()]));
  if (bodies.length > 0) bytes.push(...section(10, [bodies.length, ...bodies.flat()]));
  return new Uint8Array(bytes);
}
