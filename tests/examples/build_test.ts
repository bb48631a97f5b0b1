/**
 * The committed example modules must be what examples/build.sh makes from their sources. Needs
 * clang-14 with wasi-libc (as CI installs); without it the test is skipped, saying so.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;
const EXAMPLES = ["wcgi-hello", "preview1-server"];

async function hasClang(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("clang-14", { args: ["--version"], stdout: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "examples/build.sh rebuilds the committed .wasm byte for byte",
  ignore: !(await hasClang()),
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "thaw-examples-" });
    try {
      const result = await new Deno.Command("bash", {
        args: [join(ROOT, "examples/build.sh"), ...EXAMPLES],
        env: { OUT_DIR: out },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(result.success, new TextDecoder().decode(result.stderr));
      for (const name of EXAMPLES) {
        const built = await Deno.readFile(join(out, `${name}.wasm`));
        const committed = await Deno.readFile(join(ROOT, "examples", name, `${name}.wasm`));
        assert.ok(
          built.length === committed.length && built.every((b, i) => b === committed[i]),
          `examples/${name}/${name}.wasm is stale; run: bash examples/build.sh ${name}`,
        );
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
