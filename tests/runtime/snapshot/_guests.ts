/**
 * Loads the snapshot tests' C guests (tests/guests/snap_*.c), committed as fixtures in
 * tests/guests/wasm/ by tests/guests/build.sh, so the tests need no C toolchain.
 * @module
 */

const ROOT = new URL("../../../", import.meta.url).pathname;

/**
 * Returns the committed build of `tests/guests/<name>.c`. `flags` are the extra compiler flags
 * the test relies on; they must appear in the source's `// build-flags:` line, which build.sh
 * reads, so a test and its fixture cannot disagree.
 */
export async function buildGuest(name: string, flags: string[] = []): Promise<Uint8Array> {
  const source = await Deno.readTextFile(`${ROOT}tests/guests/${name}.c`);
  const declared = source.match(/^\/\/ build-flags: *(.*)$/m)?.[1].split(/\s+/) ?? [];
  for (const flag of flags) {
    if (!declared.includes(flag)) {
      throw new Error(`tests/guests/${name}.c must declare "// build-flags: ${flag}"`);
    }
  }
  return await Deno.readFile(`${ROOT}tests/guests/wasm/${name}.wasm`);
}

/** The prepare cache the tests share (the same as `deno task deploy`'s). */
export const CACHE_DIR = `${ROOT}.thaw-cache`;
