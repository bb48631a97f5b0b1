/**
 * Builds the snapshot tests' C guests (tests/guests/snap_*.c) on demand, cached by source hash in
 * .thaw-cache/guests/, so the tests do not depend on a prebuilt fixture being current.
 * @module
 */

const ROOT = new URL("../../../", import.meta.url).pathname;

async function hash(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d).slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compiles `tests/guests/<name>.c` (wasm32-wasi, -O2) and returns the module's bytes. */
export async function buildGuest(name: string, extraFlags: string[] = []): Promise<Uint8Array> {
  const src = `${ROOT}tests/guests/${name}.c`;
  const text = await Deno.readTextFile(src);
  const dir = `${ROOT}.thaw-cache/guests`;
  const out = `${dir}/${name}-${await hash(text + extraFlags.join(" "))}.wasm`;
  try {
    return await Deno.readFile(out);
  } catch {
    await Deno.mkdir(dir, { recursive: true });
    const tmp = `${out}.${crypto.randomUUID()}.tmp`;
    const cmd = new Deno.Command("clang-14", {
      args: [
        "--target=wasm32-wasi",
        "--sysroot=/usr",
        "-O2",
        `-I${ROOT}runtime/wasix/include`,
        ...extraFlags,
        src,
        "-o",
        tmp,
      ],
      stderr: "piped",
    });
    const { code, stderr } = await cmd.output();
    if (code !== 0) {
      throw new Error(`clang-14 failed on ${src}:\n${new TextDecoder().decode(stderr)}`);
    }
    await Deno.rename(tmp, out);
    return await Deno.readFile(out);
  }
}

/** The prepare cache the tests share (the same as `deno task deploy`'s). */
export const CACHE_DIR = `${ROOT}.thaw-cache`;
