/**
 * `deno task serve` (or `deno run serve`, or `deno run -A main.ts`): serve every app in a
 * directory with one Deno.serve. See docs/host.md.
 *
 * ```sh
 * deno task serve --apps examples --port 8000
 * curl -H 'Host: wcgi-hello.localhost' http://127.0.0.1:8000/
 * ```
 *
 * @module
 */

import { precompileBundles } from "./runtime/host/precompile.ts";

// Bundles' modules start compiling on V8's background threads before the rest of the host loads
// (about 100 ms of module loading); loadApps takes them when it gets there.
if (import.meta.main) precompileBundles(appsArgument(Deno.args));

const { parseArgs } = await import("node:util");
const { createHost, loadAdmin, loadApps, loadHostApp, WorkerSpawner } = await import(
  "./runtime/host/mod.ts"
);

/** `--apps DIR` (or `--apps=DIR`) from the command line, or the bundled examples. */
function appsArgument(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--apps" && i + 1 < args.length) return args[i + 1];
    if (args[i].startsWith("--apps=")) return args[i].slice("--apps=".length);
  }
  return new URL("./examples", import.meta.url).pathname;
}

const USAGE = `Usage: deno task serve [options]

Serves every app (a directory with app.yaml, or an instaboot bundle) found in --apps.
Requests are routed by Host header: <name>.localhost, or any domain an app lists.

Options:
  --apps DIR            Directory of apps, or one app directory (default: the bundled examples)
  --port N              Port to listen on (default: 8000; 0 picks a free one)
  --hostname ADDR       Address to bind (default: 127.0.0.1)
  --default-app NAME    App that answers hosts no app claims
  --max-instances N     Instances per app at most (default: 2)
  --min-instances N     Instances per app kept when idle (default: 0)
  --idle-timeout SECS   Idle seconds before an instance stops; scale to zero (default: 300)
  --timeout SECS        Execution limit per request; past it the client gets 504 (default: 30)
  --prespawn N          Blank Workers kept ready per app for cold starts (default: 1)
  --max-body BYTES      Largest request body (default: 67108864)
  --admin-token TOKEN   Enable the admin API (/_thaw/admin/, bundle uploads from
                        \`deno task deploy --to URL\`) with this bearer token
                        (default: $THAW_ADMIN_TOKEN; without either, no admin API)
  -h, --help            Show this help`;

function fail(message: string): never {
  console.error(`thaw serve: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

function number(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number, not "${value}"`);
  return n;
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        apps: { type: "string" },
        port: { type: "string" },
        hostname: { type: "string" },
        "default-app": { type: "string" },
        "max-instances": { type: "string" },
        "min-instances": { type: "string" },
        "idle-timeout": { type: "string" },
        timeout: { type: "string" },
        prespawn: { type: "string" },
        "max-body": { type: "string" },
        "admin-token": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const appsDir = values.apps ?? new URL("./examples", import.meta.url).pathname;
  try {
    if (!(await Deno.stat(appsDir)).isDirectory) fail(`--apps ${appsDir} is not a directory`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) fail(`--apps ${appsDir} does not exist`);
    throw err;
  }
  // Blank Workers for each app start as soon as its permissions are known, while its module
  // compiles, so the first request after listening does not wait for one.
  const prespawn = number("prespawn", values.prespawn, 1);
  const spawner = new WorkerSpawner({ prespawn: 0 });
  const { apps, broken } = await loadApps(appsDir, {
    onWorkers: (permissions, bootUrl) => spawner.reserve(permissions, bootUrl, prespawn),
  });
  for (const app of broken) {
    console.error(`thaw serve: app ${app.name} not served:\n${app.message}`);
  }
  const defaultApp = values["default-app"];
  if (defaultApp && !apps.some((a) => a.name === defaultApp)) {
    fail(
      `--default-app ${defaultApp} is not one of the apps: ${apps.map((a) => a.name).join(", ")}`,
    );
  }
  const token = values["admin-token"] ?? Deno.env.get("THAW_ADMIN_TOKEN");
  let admin: ((request: Request) => Promise<Response>) | undefined;
  const host = createHost({
    admin: (request) => admin!(request),
    apps,
    broken,
    defaultApp,
    maxInstances: number("max-instances", values["max-instances"], 2),
    minInstances: number("min-instances", values["min-instances"], 0),
    idleTimeoutMs: number("idle-timeout", values["idle-timeout"], 300) * 1000,
    requestTimeoutMs: number("timeout", values.timeout, 30) * 1000,
    prespawn,
    spawner,
    maxBodyBytes: number("max-body", values["max-body"], 64 * 1024 * 1024),
  });
  if (token) {
    const { createAdminHandler } = await loadAdmin();
    admin = createAdminHandler({
      token,
      appsDir,
      // A new bundle replaces the running version; a bundle that cannot load is refused and the
      // admin API puts the previous version back.
      activate: async (_name, dir) => {
        await host.install(await loadHostApp(dir, { recorded: false }));
        console.log(`thaw serve: installed ${dir}`);
      },
    });
  } else {
    admin = () =>
      Promise.resolve(
        new Response("The admin API is off; start the server with --admin-token TOKEN\n", {
          status: 404,
        }),
      );
  }
  const server = Deno.serve({
    port: number("port", values.port, 8000),
    hostname: values.hostname ?? "127.0.0.1",
    onListen({ hostname, port }) {
      console.log(`thaw serve: listening on http://${hostname}:${port}/`);
      for (const app of apps) {
        const hosts = [...new Set([`${app.name}.localhost`, ...(app.domains ?? [])])].join(", ");
        console.log(`  ${app.name} (${app.spec.runner}): ${hosts}`);
      }
      if (apps.length === 0) console.log(`  no apps found in ${appsDir}`);
      console.log(`  endpoints: /_thaw/health, /_thaw/metrics${token ? ", /_thaw/admin/" : ""}`);
    },
  }, host.fetch);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`thaw serve: ${signal}: finishing in-flight requests`);
    await server.shutdown();
    await host.close();
    console.log("thaw serve: stopped");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  await server.finished;
}

if (import.meta.main) await main();
