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
