/** Runs a compiled C guest (tests/guests/wasm/<name>.wasm) with preview1 + WASIX imports. */
import { MemFs, mkdirp } from "../../../runtime/vfs/mod.ts";
import { CollectOutput, importObject, Process } from "../../../runtime/wasi/mod.ts";
import { VirtualNetwork } from "../../../runtime/vnet/mod.ts";
import { WASIX_MODULE, wasixImports } from "../../../runtime/wasix/mod.ts";

const wasmDir = new URL("../../guests/wasm/", import.meta.url);
const modules = new Map<string, WebAssembly.Module>();

/** Compiles (once) a guest from tests/guests/wasm. */
export async function guestModule(name: string): Promise<WebAssembly.Module> {
  let m = modules.get(name);
  if (m === undefined) {
    m = await WebAssembly.compile(await Deno.readFile(new URL(`${name}.wasm`, wasmDir)));
    modules.set(name, m);
  }
  return m;
}

export interface GuestRun {
  code: number;
  stdout: string;
  stderr: string;
  proc: Process;
  net: VirtualNetwork;
}

/** Starts a guest and returns its process (the run promise is `done`). */
export async function startGuest(
  name: string,
  options: { net?: VirtualNetwork; env?: Record<string, string>; args?: string[] } = {},
): Promise<{ proc: Process; net: VirtualNetwork; done: Promise<GuestRun> }> {
  const fs = new MemFs();
  mkdirp(fs.root, "/tmp");
  const stdout = new CollectOutput();
  const stderr = new CollectOutput();
  const net = options.net ?? new VirtualNetwork();
  const proc = new Process({ args: options.args ?? [name], env: options.env, fs, stdout, stderr });
  const imports = importObject(proc, { [WASIX_MODULE]: wasixImports(proc, { net }) });
  const instance = await WebAssembly.instantiate(await guestModule(name), imports);
  const done = proc.start(instance).then((code) => ({
    code,
    stdout: stdout.text(),
    stderr: stderr.text(),
    proc,
    net,
  }));
  return { proc, net, done };
}

/** Runs a guest to completion. */
export async function runGuest(name: string): Promise<GuestRun> {
  return await (await startGuest(name)).done;
}
