// Runs one guest under Node's WASI (node:wasi, uvwasi) with THAW_GUEST_PEER set, to check a
// guest's expectations on a second implementation. Thaw's own runs are in
// tests/runtime/wasi/guests_test.ts.
//
// Usage: node tests/guests/run_peer.mjs tests/guests/wasm/fd.wasm [SANDBOX_DIR] [ARGS...]
//   SANDBOX_DIR (default: a fresh temporary directory) is preopened as /sandbox.
import { WASI } from "node:wasi";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import process from "node:process";

const [file, sandbox, ...args] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: node tests/guests/run_peer.mjs GUEST.wasm [SANDBOX_DIR] [ARGS...]");
  process.exit(2);
}
const dir = sandbox || mkdtempSync(join(tmpdir(), "thaw-peer-"));
const wasi = new WASI({
  version: "preview1",
  args: [basename(file), ...args],
  env: { THAW_A: "1", THAW_EMPTY: "", THAW_EQ: "x=y", THAW_GUEST_PEER: "node" },
  preopens: { "/sandbox": dir },
  returnOnExit: true,
});
const module = await WebAssembly.compile(readFileSync(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
