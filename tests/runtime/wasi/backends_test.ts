// The fd and path guest programs (tests/guests) run against every vfs backend: the same syscall
// semantics must hold on MemFs, host mounts and overlays.
import assert from "node:assert/strict";
import { type DirNode, hostMount, MemFs, overlay, packageMount } from "../../../runtime/vfs/mod.ts";
import { CollectOutput, importObject, Process } from "../../../runtime/wasi/mod.ts";

const GUESTS = new URL("../../guests/wasm/", import.meta.url);

const backends: [string, () => Promise<{ dir: DirNode; cleanup: () => Promise<void> }>][] = [
  ["MemFs", () => Promise.resolve({ dir: new MemFs().root, cleanup: () => Promise.resolve() })],
  ["hostMount", async () => {
    const d = await Deno.makeTempDir({ prefix: "thaw-guest-" });
    return { dir: hostMount(d), cleanup: () => Deno.remove(d, { recursive: true }) };
  }],
  ["overlay", async () => {
    const d = await Deno.makeTempDir({ prefix: "thaw-guest-pkg-" });
    return {
      dir: overlay(packageMount(d)).root,
      cleanup: () => Deno.remove(d, { recursive: true }),
    };
  }],
];

for (const guest of ["fd", "path"]) {
  for (const [name, make] of backends) {
    Deno.test(`guest ${guest}.wasm passes on a ${name} sandbox`, async () => {
      const { dir, cleanup } = await make();
      try {
        const out = new CollectOutput();
        const proc = new Process({
          args: [`${guest}.wasm`],
          stdout: out,
          stderr: out,
          preopens: [{ guestPath: "/sandbox", dir }],
        });
        const module = await WebAssembly.compile(
          await Deno.readFile(new URL(`${guest}.wasm`, GUESTS)),
        );
        const code = await proc.start(new WebAssembly.Instance(module, importObject(proc)));
        const failed = out.text().split("\n").filter((l) => l.startsWith("not ok"));
        assert.deepEqual(failed, []);
        assert.equal(code, 0, out.text().slice(-400));
      } finally {
        await cleanup();
      }
    });
  }
}
