/**
 * The host: one `fetch(request)` that routes by Host header to an app's instance pool, adds
 * Server-Timing, and serves `/_thaw/health` and `/_thaw/metrics`. Hand it to `Deno.serve`.
 *
 * @module
 */

import {
  AppPool,
  InstanceError,
  type InstancePermissions,
  type InstanceSpec,
  type PoolResponse,
  WorkerSpawner,
} from "../instance/mod.ts";
import { Metrics } from "./metrics.ts";
import { Router } from "./router.ts";

/** An app ready to serve: its routes, its compiled module, and how to boot instances. */
export interface HostApp {
  /** The app's name; `<name>.localhost` routes to it. */
  readonly name: string;
  /** Extra host names routed to it. */
  readonly domains?: readonly string[];
  /** What each instance boots. */
  readonly spec: InstanceSpec;
  /** The module, compiled once per process. */
  readonly module: WebAssembly.Module;
  /** Milliseconds it took to read and compile the module. */
  readonly loadMs?: number;
  /** One request at a time per instance (app.yaml `scaling.mode: single_concurrency`). */
  readonly singleConcurrency?: boolean;
  /** Worker permissions, when the app mounts host directories. @default {"none"} */
  readonly permissions?: InstancePermissions;
  /** A custom boot function module (tests, restore). */
  readonly bootUrl?: string;
  /** Where the app came from, for /_thaw/health. */
  readonly source?: string;
}

/** An app that failed to load: its hosts answer 503 with the message. */
export interface BrokenApp {
  /** The name it would have had (its directory name when app.yaml is unreadable). */
  readonly name: string;
  /** Extra host names, if they could be read. */
  readonly domains?: readonly string[];
  /** The full diagnostic, naming file, line and column. */
  readonly message: string;
  /** Where it came from. */
  readonly source?: string;
}

/** Options for {@linkcode createHost}. */
export interface HostOptions {
  /** The apps to serve. */
  apps: readonly HostApp[];
  /** Apps that failed to load. */
  broken?: readonly BrokenApp[];
  /** App that answers hosts no app claims. */
  defaultApp?: string;
  /** Instances per app at most. @default {2} */
  maxInstances?: number;
  /** Instances per app kept when idle. @default {0} */
  minInstances?: number;
  /** Idle time before an instance stops (scale to zero). @default {300000} */
  idleTimeoutMs?: number;
  /** Execution limit per request; past it the instance is killed and the client gets 504. @default {30000} */
  requestTimeoutMs?: number;
  /** Requests in flight per instance. @default {16} */
  maxInflight?: number;
  /**
   * Blank Workers kept pre-spawned per app, each with the app's permissions and its boot module
   * already imported, so a cold start pays neither the spawn nor the import. @default {1}
   */
  prespawn?: number;
  /**
   * The Worker spawner to use. One made before the apps load (see `LoadAppsOptions.onWorkers`)
   * already holds their blank Workers. The host closes it. @default {a new one}
   */
  spawner?: WorkerSpawner;
  /** Largest request body accepted, in bytes. @default {67108864} */
  maxBodyBytes?: number;
  /** Called for each server-side failure worth logging. */
  log?: (line: string) => void;
  /** Handles `/_thaw/admin/*` (see admin.ts); without it those paths answer 404. */
  admin?: (request: Request) => Promise<Response>;
}

/** The running host. */
export interface Host {
  /** The request handler for `Deno.serve`. */
  fetch(request: Request, info?: { remoteAddr?: { hostname?: string } }): Promise<Response>;
  /** The metrics registry behind /_thaw/metrics. */
  readonly metrics: Metrics;
  /**
   * Serves `app`, replacing an app of the same name: new requests go to the new version while
   * in-flight ones finish on the old instances, which then stop.
   */
  install(app: HostApp): Promise<void>;
  /** Lets in-flight requests finish, then stops every instance and blank Worker. */
  close(): Promise<void>;
}

interface PoolEntry {
  app: HostApp;
  pool: AppPool;
  firstLoad: boolean;
  /** Counter handles by status code. */
  requests: Map<number, () => void>;
  latency: (seconds: number) => void;
}

const REQUESTS = "thaw_requests_total";
const COLD_STARTS = "thaw_cold_starts_total";
const INSTANCES = "thaw_instances";
const STOPS = "thaw_instance_stops_total";
const LATENCY = "thaw_request_duration_seconds";
const COLD_LATENCY = "thaw_cold_start_duration_seconds";
const REJECTIONS = "thaw_journal_rejections_total";
/** The phase mark a boot function reports when it did not apply the app's journal. */
const REJECTED_MARK = "journal_rejected_";

function fmt(ms: number): string {
  return ms.toFixed(2);
}

/** The Server-Timing of a warm request before its execute time, by boot kind. */
const WARM_TIMING = {
  instantiate: "load;dur=0.00, instantiate;dur=0.00, execute;dur=",
  restore: "load;dur=0.00, restore;dur=0.00, execute;dur=",
};

function serverTiming(
  res: Pick<PoolResponse, "phases" | "execute" | "cold">,
  load: number,
  restores: boolean,
): string {
  // The common case, a warm request after the first: one concatenation.
  if (!res.cold && load === 0) {
    return (restores ? WARM_TIMING.restore : WARM_TIMING.instantiate) + fmt(res.execute);
  }
  // Warm requests report the app's boot kind with 0: they waited for no boot.
  const boot = "restore" in res.phases || (restores && !("instantiate" in res.phases))
    ? "restore"
    : "instantiate";
  const parts = [
    `load;dur=${fmt(load)}`,
    `${boot};dur=${fmt(res.phases[boot] ?? 0)}`,
  ];
  // Sub-phases a boot function reports (worker spawn, listen, Ruby init, ...), when cold.
  for (const [name, ms] of Object.entries(res.phases)) {
    if (name !== boot) parts.push(`${name};dur=${fmt(ms)}`);
  }
  parts.push(`execute;dur=${fmt(res.execute)}`);
  return parts.join(", ");
}

/** The path and query of an absolute URL, without parsing all of it. */
function pathOf(url: string): string {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  return slash < 0 ? "/" : url.slice(slash);
}

function text(status: number, body: string, headers: HeadersInit = {}): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/**
 * Creates the host.
 *
 * @example
 * ```ts ignore
 * import { createHost, loadApps } from "./mod.ts";
 * const { apps, broken } = await loadApps("examples");
 * const host = createHost({ apps, broken });
 * Deno.serve({ port: 8000 }, host.fetch);
 * ```
 */
export function createHost(options: HostOptions): Host {
  const metrics = new Metrics();
  const log = options.log ?? ((line: string) => console.error(line));
  const prespawn = options.prespawn ?? 1;
  // Blanks are reserved per app (permissions and boot module), as apps are added.
  const spawner = options.spawner ?? new WorkerSpawner({ prespawn: 0 });
  const maxBody = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const router = new Router([], options.defaultApp);
  /** Host header → app name, so a request's route is a map lookup; cleared when apps change. */
  const routes = new Map<string, string | undefined>();
  function route(hostHeader: string): string | undefined {
    let name = routes.get(hostHeader);
    if (name === undefined && !routes.has(hostHeader)) {
      name = router.match(hostHeader);
      // Bounded: clients choose Host headers.
      if (routes.size >= 1024) routes.clear();
      routes.set(hostHeader, name);
    }
    return name;
  }
  const pools = new Map<string, PoolEntry>();
  const broken = new Map<string, BrokenApp>();
  const started = Date.now();

  metrics.declare(REQUESTS, "counter", "HTTP requests answered, by app and status code");
  metrics.declare(COLD_STARTS, "counter", "Instances booted to serve requests, by app");
  metrics.declare(INSTANCES, "gauge", "Live instances (booting or ready), by app");
  metrics.declare(STOPS, "counter", "Instances stopped, by app and reason");
  metrics.declare(LATENCY, "histogram", "Time to response head, by app, in seconds");
  metrics.declare(COLD_LATENCY, "histogram", "Instance boot time, by app, in seconds");
  metrics.declare(
    REJECTIONS,
    "counter",
    "Instaboot journals not applied (the instance cold-booted instead), by app and reason",
  );

  function poolFor(app: HostApp): PoolEntry {
    spawner.reserve(app.permissions ?? "none", app.bootUrl, prespawn);
    const labels = { app: app.name };
    metrics.gauge(INSTANCES, "", labels, 0);
    metrics.counter(COLD_STARTS, "", labels, 0);
    // The pool's own events check whether it is still the app's current pool.
    const self: { pool?: AppPool } = {};
    const pool = self.pool = new AppPool({
      spec: app.spec,
      module: app.module,
      spawner,
      minInstances: options.minInstances ?? 0,
      maxInstances: options.maxInstances ?? 2,
      maxInflight: app.singleConcurrency ? 1 : options.maxInflight ?? 16,
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      permissions: app.permissions ?? "none",
      bootUrl: app.bootUrl,
      events: {
        // A replaced version's pool stops reporting its instance count once it is retired.
        instances: (n) => {
          if (self.pool === undefined || pools.get(app.name)?.pool === self.pool) {
            metrics.gauge(INSTANCES, "", labels, n);
          }
        },
        coldStart: (ms, phases, ok) => {
          if (!ok) return;
          metrics.counter(COLD_STARTS, "", labels);
          metrics.observe(COLD_LATENCY, "", labels, ms / 1000);
          for (const phase of Object.keys(phases)) {
            if (!phase.startsWith(REJECTED_MARK)) continue;
            const reason = phase.slice(REJECTED_MARK.length);
            metrics.counter(REJECTIONS, "", { ...labels, reason });
            log(`thaw: ${app.name}: journal not applied (${reason}); the instance cold-booted`);
          }
        },
        stopped: (reason, message) => {
          metrics.counter(STOPS, "", { ...labels, reason });
          if (reason === "crash" || reason === "timeout" || reason === "boot") {
            log(`thaw: ${app.name}: instance stopped (${reason}): ${message}`);
          }
        },
      },
    });
    return {
      app,
      pool,
      firstLoad: true,
      requests: new Map(),
      latency: metrics.histogramHandle(LATENCY, "", labels),
    };
  }

  for (const app of options.apps) {
    const clashes = router.add(app);
    for (const host of clashes) log(`thaw: ${app.name}: host ${host} is taken by another app`);
    pools.set(app.name, poolFor(app));
  }
  for (const app of options.broken ?? []) {
    if (pools.has(app.name)) continue;
    router.add(app);
    broken.set(app.name, app);
  }

  function health(): Response {
    const apps = [...pools.values()].map(({ app, pool }) => ({
      name: app.name,
      status: "ok",
      runner: app.spec.runner,
      instances: pool.size,
      inflight: pool.inflight,
      queued: pool.queued,
      hosts: [...new Set([`${app.name}.localhost`, ...(app.domains ?? [])])],
    }));
    const failed = [...broken.values()].map((app) => ({
      name: app.name,
      status: "error",
      error: app.message,
    }));
    return Response.json({
      status: "ok",
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      apps: [...apps, ...failed],
    });
  }

  async function fetch(
    request: Request,
    info?: { remoteAddr?: { hostname?: string } },
  ): Promise<Response> {
    const start = performance.now();
    const path = pathOf(request.url);
    if (path.startsWith("/_thaw/")) {
      const pathname = new URL(request.url).pathname;
      if (pathname.startsWith("/_thaw/admin/") && options.admin) return options.admin(request);
      if (pathname === "/_thaw/health") return health();
      if (pathname === "/_thaw/metrics") {
        return new Response(metrics.render(), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        });
      }
      return text(404, `No Thaw endpoint ${pathname}; try /_thaw/health or /_thaw/metrics`);
    }
    // One pass over the headers: the copy for the guest, the Host header and the body length.
    const headers: [string, string][] = [];
    let hostValue: string | undefined;
    let lengthValue: string | undefined;
    for (const pair of request.headers) {
      const key = pair[0];
      if (key === "host") hostValue = pair[1];
      else if (key === "content-length") lengthValue = pair[1];
      else if (key === "x-thaw-remote-addr") continue;
      headers.push(pair);
    }
    const hostHeader = hostValue ?? new URL(request.url).host;
    const name = route(hostHeader);
    if (name === undefined) return text(404, unknownHost(hostHeader, request.url));
    const entry = pools.get(name);
    if (!entry) {
      const failed = broken.get(name);
      metrics.counter(REQUESTS, "", { app: name, code: "503" });
      return text(503, `App ${name} failed to load:\n${failed?.message ?? "unknown app"}`);
    }
    const length = Number(lengthValue ?? 0);
    if (length > maxBody) {
      count(entry, 413);
      return text(413, `Request body of ${length} bytes is over the ${maxBody} byte limit`);
    }
    let body: ArrayBuffer | null = null;
    if (request.body) {
      body = await request.arrayBuffer();
      if (body.byteLength > maxBody) {
        count(entry, 413);
        return text(413, `Request body is over the ${maxBody} byte limit`);
      }
    }
    if (info?.remoteAddr?.hostname) headers.push(["x-thaw-remote-addr", info.remoteAddr.hostname]);
    // The first request of an app reports the module's load time; later ones find it cached.
    const load = entry.firstLoad ? entry.app.loadMs ?? 0 : 0;
    entry.firstLoad = false;
    let res: PoolResponse;
    try {
      res = await entry.pool.dispatch({ method: request.method, url: request.url, headers, body });
    } catch (err) {
      const status = err instanceof InstanceError ? err.status : 500;
      if (!(err instanceof InstanceError)) {
        log(`thaw: ${name}: host error: ${(err as Error).stack}`);
      }
      count(entry, status);
      entry.latency((performance.now() - start) / 1000);
      return text(status, `${name}: ${(err as Error).message}`, {
        "server-timing": `load;dur=${fmt(load)}, execute;dur=${fmt(performance.now() - start)}`,
      });
    }
    count(entry, res.status);
    entry.latency((performance.now() - start) / 1000);
    const out = res.headers;
    out.push(["server-timing", serverTiming(res, load, entry.app.spec.journalPath !== undefined)]);
    const nullBody = request.method === "HEAD" || res.status === 204 || res.status === 304;
    return new Response(nullBody ? null : res.body as BodyInit | null, {
      status: res.status,
      statusText: res.statusText,
      headers: out,
    });
  }

  /** The 404 for a Host header no app claims: which apps there are and how to reach them. */
  function unknownHost(hostHeader: string, url: string): string {
    const { protocol, host } = new URL(url);
    const port = host.includes(":") ? host.slice(host.lastIndexOf(":")) : "";
    const lines = [`No app serves host "${hostHeader}".`, ""];
    if (pools.size === 0 && broken.size === 0) {
      lines.push("This server has no apps. Start it with --apps DIR (a directory of apps).");
      return lines.join("\n");
    }
    lines.push("Apps on this server are chosen by the Host header:", "");
    const width = Math.max(...[...pools.keys(), ...broken.keys()].map((n) => n.length));
    for (const { app } of pools.values()) {
      const hosts = [...new Set([`${app.name}.localhost`, ...(app.domains ?? [])])];
      lines.push(
        `  ${app.name.padEnd(width)}  curl -H 'Host: ${app.name}.localhost' ${protocol}//${host}/`,
      );
      if (hosts.length > 1) lines.push(`  ${"".padEnd(width)}  also: ${hosts.slice(1).join(", ")}`);
    }
    for (const app of broken.values()) {
      lines.push(`  ${app.name.padEnd(width)}  failed to load; see /_thaw/health`);
    }
    const example = pools.keys().next().value ?? [...broken.keys()][0];
    lines.push(
      "",
      `*.localhost names resolve to loopback, so http://${example}.localhost${port}/ works in a`,
      "browser or curl without -H. Start the server with --default-app NAME to send every other",
      "host name to one app. Health: /_thaw/health, metrics: /_thaw/metrics.",
    );
    return lines.join("\n");
  }

  function count(entry: PoolEntry, status: number) {
    let inc = entry.requests.get(status);
    if (!inc) {
      inc = metrics.counterHandle(REQUESTS, "", { app: entry.app.name, code: String(status) });
      entry.requests.set(status, inc);
    }
    inc();
  }

  async function close(): Promise<void> {
    await Promise.all([...pools.values()].map(({ pool }) => pool.close()));
    spawner.close();
  }

  async function install(app: HostApp): Promise<void> {
    const clashes = router.add(app);
    routes.clear();
    for (const host of clashes) log(`thaw: ${app.name}: host ${host} is taken by another app`);
    broken.delete(app.name);
    const previous = pools.get(app.name);
    pools.set(app.name, poolFor(app));
    if (previous) await previous.pool.close();
  }

  return { fetch, metrics, close, install };
}
