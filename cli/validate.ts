/**
 * `thaw validate APP_DIR...`: checks app.yaml and the package it names, without running anything.
 *
 * Every problem is printed as `file:line:column: path message`, warnings included. The exit status
 * is 0 when all apps are valid (one `OK` line each), 1 when any has errors (or warnings, with
 * `--strict`), and 2 for bad usage.
 *
 * @example
 * ```sh
 * deno task thaw validate examples/wcgi-hello
 * deno task thaw validate --json examples/*
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { basename } from "node:path";
import { checkApp, formatIssue, type ResolvedApp } from "../config/mod.ts";

const USAGE = `Usage: thaw validate [--strict] [--json] APP_DIR...

Checks each app's app.yaml (wasmer.io/App.v0) and the package it names (a .wasm file or a
directory with a wasmer.toml), and compiles the module to check its imports, its entry point and
the memory limit. APP_DIR may also be the path of an app.yaml.

Options:
  --strict   treat warnings as errors
  --json     print one JSON object per app instead of text
  -h, --help show this help
`;

/** A one-line summary of a valid app. */
export function summarize(app: ResolvedApp): string {
  const parts = [
    `runner ${app.runner}`,
    basename(app.wasmPath),
    app.domains.length > 0 ? `domains ${app.domains.join(", ")}` : "no domains",
  ];
  const limit = app.config.capabilities?.memory?.limit;
  if (limit !== undefined) parts.push(`memory ${limit}`);
  if (app.instaboot !== undefined) {
    const n = app.instaboot.requests.length;
    parts.push(`instaboot ${app.instaboot.mode} (${n} request${n === 1 ? "" : "s"})`);
  } else parts.push("no instaboot");
  return `OK ${app.name}: ${parts.join(", ")}`;
}

/** Runs `thaw validate` and returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        strict: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    console.error(`thaw validate: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    console.error(`thaw validate: name an app directory\n\n${USAGE}`);
    return 2;
  }
  let status = 0;
  for (const target of parsed.positionals) {
    const result = await checkApp(target, { inspectModule: true });
    const errors = result.ok ? [] : result.errors;
    const failed = !result.ok || (parsed.values.strict === true && result.warnings.length > 0);
    if (failed) status = 1;
    if (parsed.values.json) {
      console.log(JSON.stringify({
        target,
        ok: !failed,
        errors,
        warnings: result.warnings,
        ...(result.ok ? { app: result.app } : {}),
      }));
      continue;
    }
    for (const issue of [...errors, ...result.warnings]) console.error(formatIssue(issue));
    if (result.ok && !failed) console.log(summarize(result.app));
    else {
      const e = errors.length;
      const w = result.warnings.length;
      console.error(
        `${target}: ${e} error${e === 1 ? "" : "s"}, ${w} warning${w === 1 ? "" : "s"}` +
          (result.ok ? " (--strict)" : ""),
      );
    }
  }
  return status;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
