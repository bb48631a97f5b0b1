/**
 * `thaw run`: runs a WASI command module the way `wasmtime run` does.
 *
 * ```sh
 * deno task thaw run [--dir HOST[::GUEST]]... [--env NAME[=VALUE]]... [--tcplisten HOST:PORT]...
 *                    [--] MODULE.wasm [ARGS...]
 * ```
 *
 * argv[0] is the module's file name; stdin, stdout and stderr are the process's; the exit status
 * is the guest's `proc_exit` code (0 when `_start` returns). A trap exits 134 with the trap on
 * stderr. A missing file, an invalid module, an unknown import or a bad flag exits 1 (2 for
 * usage errors) with one line on stderr. See docs/run.md.
 *
 * @example
 * ```sh
 * deno task thaw run --dir ./data::/data --env GREETING=hi app.wasm --verbose
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import {
  type DirMapping,
  GuestTrapError,
  InstantiateError,
  loadModule,
  runModule,
} from "../runtime/instantiate/mod.ts";
import { VnetError } from "../runtime/vnet/mod.ts";
import { preopenTcpListener } from "../runtime/wasix/mod.ts";

/** Exit status of a trapping guest, as wasmtime reports it on Unix (128 + SIGABRT). */
export const TRAP_EXIT = 134;

const USAGE = `Usage: thaw run [OPTIONS] [--] MODULE.wasm [ARGS...]

Runs a WASI command module (wasmtime-compatible flags).

Options:
  --dir HOST[::GUEST]    Preopen host directory HOST, seen by the guest as GUEST (default: HOST)
  --env NAME[=VALUE]     Set an environment variable (NAME alone copies the host's value)
  --tcplisten HOST:PORT  Preopen a listening TCP socket (after the directories; sets LISTEN_FDS)
  -h, --help             Show this help

Exit status: the guest's exit code; 134 when it traps; 1 when the module cannot be run;
2 for a usage error.
`;

/** Flags that take a value (so that the module is the first argument that is not one). */
const VALUE_FLAGS = new Set(["--dir", "--env", "--tcplisten"]);

/** A usage mistake: exit 2 with this message. */
export class RunUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunUsageError";
  }
}

/** What the command line asked for. */
export interface RunRequest {
  module: string;
  args: string[];
  dirs: DirMapping[];
  env: Record<string, string>;
  tcplisten: string[];
  help: boolean;
}

/** Splits the command line at the module: options before it are Thaw's, the rest the guest's. */
function splitAtModule(argv: readonly string[]): { own: string[]; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") return { own: argv.slice(0, i), rest: argv.slice(i + 1) };
    if (!a.startsWith("-") || a === "-") return { own: argv.slice(0, i), rest: argv.slice(i) };
    if (VALUE_FLAGS.has(a)) i++;
  }
  return { own: [...argv], rest: [] };
}

/**
 * Parses `thaw run`'s arguments.
 *
 * @example
 * ```ts
 * parseRunArgs(["--dir", ".::/app", "app.wasm", "-v"]);
 * // { module: "app.wasm", args: ["-v"], dirs: [{ host: ".", guest: "/app" }], ... }
 * ```
 * @throws {RunUsageError} for an unknown flag, a malformed value, or no module.
 */
export function parseRunArgs(
  argv: readonly string[],
  hostEnv: (name: string) => string | undefined = (n) => Deno.env.get(n),
): RunRequest {
  const { own, rest } = splitAtModule(argv);
  let values;
  try {
    ({ values } = parseArgs({
      args: own,
      options: {
        dir: { type: "string", multiple: true },
        env: { type: "string", multiple: true },
        tcplisten: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new RunUsageError((e as Error).message.replace(/\. To specify a positional.*$/, ""));
  }
  const request: RunRequest = {
    module: rest[0] ?? "",
    args: rest.slice(1),
    dirs: [],
    env: {},
    tcplisten: values.tcplisten ?? [],
    help: values.help ?? false,
  };
  if (request.help) return request;
  for (const d of values.dir ?? []) {
    const sep = d.indexOf("::");
    const host = sep < 0 ? d : d.slice(0, sep);
    const guest = sep < 0 ? d : d.slice(sep + 2);
    if (host === "" || guest === "") {
      throw new RunUsageError(`--dir ${d}: expected HOST or HOST::GUEST, such as ./data::/data`);
    }
    request.dirs.push({ host, guest });
  }
  for (const e of values.env ?? []) {
    const eq = e.indexOf("=");
    const name = eq < 0 ? e : e.slice(0, eq);
    if (name === "") throw new RunUsageError(`--env ${e}: expected NAME=VALUE or NAME`);
    if (eq >= 0) request.env[name] = e.slice(eq + 1);
    else {
      const inherited = hostEnv(name);
      if (inherited !== undefined) request.env[name] = inherited;
    }
  }
  if (request.tcplisten.length > 0 && request.env.LISTEN_FDS === undefined) {
    request.env.LISTEN_FDS = String(request.tcplisten.length);
  }
  if (request.module === "") {
    throw new RunUsageError("No module given; usage: thaw run [OPTIONS] MODULE.wasm [ARGS...]");
  }
  return request;
}

function basename(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop() ?? path;
}

function checkDirs(dirs: readonly DirMapping[]): string | null {
  for (const d of dirs) {
    let stat: Deno.FileInfo;
    try {
      stat = Deno.statSync(d.host);
    } catch {
      return `--dir ${d.host}: no such directory on the host`;
    }
    if (!stat.isDirectory) return `--dir ${d.host}: not a directory`;
  }
  return null;
}

/**
 * Runs `thaw run` and returns the exit status.
 *
 * @example
 * ```ts
 * const status = await main(["--env", "A=1", "hello.wasm", "world"]);
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  let request: RunRequest;
  try {
    request = parseRunArgs(argv);
  } catch (e) {
    if (!(e instanceof RunUsageError)) throw e;
    console.error(`thaw run: ${e.message}; run "thaw run --help" for usage`);
    return 2;
  }
  if (request.help) {
    console.log(USAGE);
    return 0;
  }
  const dirError = checkDirs(request.dirs);
  if (dirError !== null) {
    console.error(`thaw run: ${dirError}`);
    return 1;
  }
  try {
    const module = await loadModule(request.module);
    return await runModule(module, {
      args: [basename(request.module), ...request.args],
      env: request.env,
      dirs: request.dirs,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
      setup: (proc) => {
        for (const hostPort of request.tcplisten) preopenTcpListener(proc, hostPort);
      },
    });
  } catch (e) {
    if (e instanceof GuestTrapError) {
      const frames = e.frames.map((f) => `\n    at ${f}`).join("");
      console.error(`thaw run: ${basename(request.module)}: ${e.message}${frames}`);
      return TRAP_EXIT;
    }
    if (e instanceof InstantiateError) {
      console.error(`thaw run: ${e.message}`);
      return 1;
    }
    // --tcplisten failures come from runtime/vnet as VnetError (EADDRINUSE, EINVAL).
    if (e instanceof VnetError) {
      console.error(`thaw run: --tcplisten: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
