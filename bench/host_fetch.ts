/**
 * CPU per request of the whole host path without sockets: `host.fetch` on the C WASIX proxy
 * example (examples/wasix-http-server, GET /health) with K requests in flight, through the
 * instance pool, the shared-memory rings and the instance Workers. CPU is the process's (every
 * thread), so it is the figure to compare with a plain Deno.serve hello world's CPU per request.
 *
 * Usage: deno run -A bench/host_fetch.ts [REQUESTS] [IN_FLIGHT] [MAX_INSTANCES]
 *   defaults: 60000, 64, 2
 */
import process from "node:process";
import { createHost, loadApps } from "../runtime/host/mod.ts";

const total = Number(Deno.args[0] ?? 60_000);
const inFlight = Number(Deno.args[1] ?? 64);
const maxInstances = Number(Deno.args[2] ?? 2);
const root = new URL("../examples/wasix-http-server", import.meta.url).pathname;
const { apps, broken } = await loadApps(root);
const host = createHost({ apps, broken, maxInstances, idleTimeoutMs: 600_000 });
const url = "http://wasix-http-server.localhost/health";

async function run(n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next++ < n) {
      const res = await host.fetch(new Request(url));
      if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** CPU ticks (1/100 s) of every thread of this process, by thread id (Linux only). */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const t of Deno.readDirSync("/proc/self/task")) {
      const stat = Deno.readTextFileSync(`/proc/self/task/${t.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(t.name, Number(f[11]) + Number(f[12]));
    }
  } catch { /* not Linux */ }
  return out;
}

function threadName(tid: string): string {
  if (tid === String(Deno.pid)) return "main";
  try {
    return `${Deno.readTextFileSync(`/proc/self/task/${tid}/comm`).trim()}#${tid}`;
  } catch {
    return tid;
  }
}

await run(Math.min(10_000, total)); // warm-up: boots the instances, JIT
const ticks0 = threadTicks();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await run(total);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(
  `${total} requests, ${inFlight} in flight, up to ${maxInstances} instances: ` +
    `${Math.round(total / wall * 1000)} req/s, ${(wall * 1000 / total).toFixed(1)} µs wall, ` +
    `${((cpu.user + cpu.system) / total).toFixed(1)} µs CPU per request (all threads)`,
);
const perThread = [...threadTicks()]
  .map(([tid, t]) => [tid, t - (ticks0.get(tid) ?? 0)] as const)
  .filter(([, t]) => t > 0)
  .sort((a, b) => b[1] - a[1])
  .map(([tid, t]) => `${threadName(tid)} ${(t * 10_000 / total).toFixed(1)}`);
console.log(`  µs CPU per request by thread: ${perThread.join(", ")}`);
Deno.exit(0);
