/**
 * `deno task deploy [APP_DIR] [--out DIR] [--to URL] [--token TOKEN]`
 *
 * Validates app.yaml, prepares the module (cached by content hash in `.thaw-cache/`), boots the app
 * with journaling on, sends the warm-up requests (checking each `expect`), snapshots it, compacts
 * the journal and writes the bundle (`--out`, default `out/<name>`). `--to URL` then uploads the
 * bundle to a running host's admin API (token from `--token` or `THAW_ADMIN_TOKEN`).
 *
 * @example
 * ```sh
 * deno task deploy examples/wasix-http-server --out out/wasix-http-server
 * deno task deploy examples/wasix-http-server --to http://127.0.0.1:8000 --token secret
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { ConfigError, formatIssue, loadApp } from "../../config/mod.ts";
import { deploy, DeployError, type DeployEvent } from "./deploy.ts";
import { uploadBundle, UploadError } from "./upload.ts";

export {
  deploy,
  DeployError,
  type DeployEvent,
  type DeployOptions,
  type DeployResult,
} from "./deploy.ts";
export { uploadBundle, UploadError, type UploadOptions } from "./upload.ts";

const USAGE = `Usage: thaw deploy [APP_DIR...] [--out DIR] [--to URL] [--token TOKEN]

Boots each app, sends its warm-up requests, snapshots it and writes a deploy bundle.
With several APP_DIRs, --out names the parent directory and each bundle goes to DIR/<app name>.

Options:
  --out DIR      Where to write the bundle (default: out/<app name>; several apps: out)
  --to URL       Upload the bundle to a running host (its admin API)
  --token TOKEN  Admin token for --to (default: $THAW_ADMIN_TOKEN)
  --quiet        Print only the summary
  -h, --help     Show this help
`;

function kb(n: number): string {
  return n < 10240 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`;
}

function printer(quiet: boolean): (e: DeployEvent) => void {
  return (e) => {
    if (quiet) return;
    switch (e.type) {
      case "validated":
        console.log(`✓ app.yaml: ${e.name} (runner ${e.runner}, ${e.requests} warm-up requests)`);
        for (const w of e.warnings) console.warn(`  warning: ${w}`);
        break;
      case "prepared": {
        const delta = ((e.outputSize - e.inputSize) / e.inputSize * 100).toFixed(1);
        console.log(
          `✓ prepare: ${kb(e.inputSize)} → ${kb(e.outputSize)} (${
            Number(delta) >= 0 ? "+" : ""
          }${delta}%), asyncify ${e.asyncify}${e.cached ? ", cached" : ""} (${e.ms.toFixed(0)} ms)`,
        );
        break;
      }
      case "step":
        console.log(`… ${e.message}`);
        break;
      case "booted":
        console.log(`✓ boot: ${e.ms.toFixed(1)} ms`);
        break;
      case "request":
        console.log(
          `  [${e.index + 1}/${e.total}] ${e.method} ${e.path} → ${e.status} ${
            e.ok ? "✓" : "✗ " + e.problem
          } (${e.ms.toFixed(1)} ms)`,
        );
        break;
      case "snapshot":
        console.log(
          `✓ snapshot at ${e.syscall} (${e.reason}): ${e.records} records, ${kb(e.bytes)} ` +
            `(${e.ms.toFixed(1)} ms)`,
        );
        break;
      case "warning":
        console.warn(`! ${e.message}`);
        break;
    }
  };
}

/** Runs `thaw deploy` and returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        to: { type: "string" },
        token: { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    console.error(`thaw deploy: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const appDirs = positionals.length > 0 ? positionals : ["."];
  const token = values.token ?? Deno.env.get("THAW_ADMIN_TOKEN");
  if (values.to !== undefined && !token) {
    console.error("thaw deploy: --to needs an admin token: pass --token or set THAW_ADMIN_TOKEN");
    return 2;
  }
  const several = appDirs.length > 1;
  let failed = 0;
  for (const appDir of appDirs) {
    if (several) console.log(`\n== ${appDir}`);
    const status = await deployOne(appDir, {
      out: several
        ? (name) => `${values.out ?? "out"}/${name}`
        : (name) => values.out ?? `out/${name}`,
      to: values.to,
      token,
      quiet: values.quiet,
    });
    if (status !== 0) failed++;
  }
  if (several) {
    console.log(`\n${appDirs.length - failed} of ${appDirs.length} apps deployed`);
  }
  return failed === 0 ? 0 : 1;
}

async function deployOne(
  appDir: string,
  opts: { out(name: string): string; to?: string; token?: string; quiet: boolean },
): Promise<number> {
  try {
    const app = await loadApp(appDir);
    const out = opts.out(app.name);
    const result = await deploy(app, { out, onEvent: printer(opts.quiet) });
    const m = result.manifest;
    console.log(
      `\nBundle ${out}\n` +
        `  module   ${m.module.file}  ${kb(m.module.size)}  sha256 ${
          m.module.sha256.slice(0, 12)
        }\n` +
        `  journal  ${m.journal.file}  ${kb(m.journal.size)}  ${m.journal.records} records ` +
        `(compacted from ${m.journal.rawRecords})\n` +
        `  trigger  ${m.journal.trigger}\n` +
        `  timings  ${
          Object.entries(m.timings).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(", ")
        }`,
    );
    for (const w of result.warnings) console.warn(`  warning: ${w}`);
    if (opts.to !== undefined) {
      const r = await uploadBundle(out, { url: opts.to, token: opts.token! });
      console.log(`✓ uploaded to ${opts.to} as ${r.name}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const issue of e.issues) console.error(formatIssue(issue));
      return 1;
    }
    if (e instanceof DeployError || e instanceof UploadError) {
      console.error(`thaw deploy: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
