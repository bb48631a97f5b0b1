/**
 * The `thaw` command line: `deno task thaw <command> [...]`.
 *
 * Each command lives in its own module exporting `main(args): Promise<number>`, which returns the
 * process exit status. This file only dispatches.
 *
 * @example
 * ```sh
 * deno task thaw run hello.wasm -- arg1
 * deno task thaw validate examples/wasix-http-server
 * ```
 * @module
 */

type Command = { summary: string; load: () => Promise<{ main(args: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  // Each owner adds its command here.
  deploy: {
    summary: "boot and warm an app, snapshot it, and write (or upload) a deploy bundle",
    load: () => import("./deploy/mod.ts"),
  },
  run: {
    summary: "run a WASI command module (wasmtime-compatible flags: --dir, --env, --tcplisten)",
    load: () => import("./run.ts"),
  },
  journal: {
    summary: "inspect, verify or compact a journal file",
    load: () => import("./journal_cmd.ts"),
  },
  validate: {
    summary: "check app.yaml and its package, printing every problem",
    load: () => import("./validate.ts"),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: thaw <command> [options]\n\nCommands:\n${lines.join("\n")}\n`;
}

/** Runs the command line and returns the exit status. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`thaw: unknown command "${name}"; run "thaw help" to list the commands`);
    return 2;
  }
  const mod = await command.load();
  return await mod.main(rest);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
