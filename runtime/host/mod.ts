/**
 * The Thaw host: one `fetch(request)` for `Deno.serve` that serves many Wasm apps.
 *
 * - {@linkcode loadApps} reads a directory of apps (plain app dirs and instaboot bundles) and
 *   compiles each module once; broken apps come back with file:line:column diagnostics.
 * - {@linkcode createHost} routes by Host header ({@linkcode Router}), dispatches to per-app
 *   instance pools (Workers, scale to zero, execution and memory limits), adds Server-Timing,
 *   and serves `/_thaw/health` and `/_thaw/metrics` ({@linkcode Metrics}).
 *
 * @example
 * ```ts ignore
 * import { createHost, loadApps } from "./mod.ts";
 * const { apps, broken } = await loadApps("examples");
 * const host = createHost({ apps, broken, idleTimeoutMs: 60_000 });
 * const server = Deno.serve({ port: 8000 }, host.fetch);
 * ```
 *
 * @module
 */

export { type BrokenApp, createHost, type Host, type HostApp, type HostOptions } from "./server.ts";
export {
  findAppDirs,
  instanceSpecOf,
  loadApps,
  type LoadAppsOptions,
  type LoadedApps,
  loadHostApp,
} from "./apps.ts";
export { type Route, Router } from "./router.ts";
export { LATENCY_BUCKETS, Metrics } from "./metrics.ts";
export { limitMemory, MemoryLimitError, WASM_PAGE } from "./limits.ts";
export { WorkerSpawner } from "../instance/mod.ts";

/**
 * The V8 flags `deno task serve` runs the host with (deno.json; a test keeps the two the same):
 *
 * - `--experimental-wasm-compilation-hints`: compile the functions a bundle's module lists in
 *   its `metadata.code.compilation_priority` section (what a restored instance runs first) on
 *   V8's background threads while the module compiles, instead of lazily on the first request;
 * - `--no-wasm-inlining`: no per-instance call feedback in Liftoff code. Every cold start is a
 *   new instance that serves its first request right away; collecting feedback cost a restored
 *   Ruby instance 0.15-0.4 ms of that request (BENCHMARKS.md), and the C proxy example's
 *   throughput did not change without it.
 *
 * @example
 * ```ts
 * import { HOST_V8_FLAGS } from "./mod.ts";
 * const arg = `--v8-flags=${HOST_V8_FLAGS.join(",")}`;
 * console.assert(arg.startsWith("--v8-flags=--"));
 * ```
 */
export const HOST_V8_FLAGS: readonly string[] = [
  "--experimental-wasm-compilation-hints",
  "--no-wasm-inlining",
];

/** The admin API's factory (admin.ts), loaded on demand: it pulls in the bundle checks. */
export interface AdminSupport {
  /** See admin.ts. */
  createAdminHandler(options: {
    token: string;
    appsDir: string;
    activate?: (name: string, dir: string, manifest: unknown) => Promise<void>;
    maxBytes?: number;
  }): (request: Request) => Promise<Response>;
}

/**
 * Loads the admin API (`PUT /_thaw/admin/apps/<name>` bundle uploads). The specifier is computed
 * so that hosts without an admin token never load the snapshot code it uses.
 *
 * @example
 * ```ts ignore
 * const { createAdminHandler } = await loadAdmin();
 * ```
 */
export function loadAdmin(): Promise<AdminSupport> {
  return import(new URL(["admin", "ts"].join("."), import.meta.url).href);
}
