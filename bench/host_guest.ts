/**
 * The guest alone: examples/wasix-http-server over the virtual network in this thread, driven by
 * the proxy runner's plain-data path with K requests in flight (no host, no Worker, no sockets).
 * Prints µs of wall and CPU time per request. Part of the "Host" section of BENCHMARKS.md.
 *
 * Usage: deno run -A bench/host_guest.ts [REQUESTS] [IN_FLIGHT] [CONNECTIONS]
 *   defaults: 50000, 16, 16 (CONNECTIONS 1 is the one-request-at-a-time runner)
 */
import process from "node:process";
import { instantiate } from "../runtime/instantiate/mod.ts";
import { createProxyRunner, vnetConnection } from "../runtime/runners/mod.ts";
import { VirtualNetwork } from "../runtime/vnet/mod.ts";

const total = Number(Deno.args[0] ?? 50_000);
const inFlight = Number(Deno.args[1] ?? 16);
const connections = Number(Deno.args[2] ?? 16);
const url = new URL("../examples/wasix-http-server/server.wasm", import.meta.url);
const module = await WebAssembly.compile(await Deno.readFile(url));
const net = new VirtualNetwork({ hostnames: ["bench"] });
const { instance, process: proc } = await instantiate(module, {
  args: ["server.wasm"],
  env: {},
  stdout: () => {},
  stderr: () => {},
  wasix: { net },
});
proc.start(instance).catch((err) => console.error("guest stopped:", err));
const { address } = await net.firstListen();
const runner = createProxyRunner({
  maxConnections: connections,
  connect: () => Promise.resolve(vnetConnection(net.connect(address.port))),
});
const request = {
  method: "GET",
  url: "http://bench.localhost/health",
  headers: [["host", "bench.localhost"], ["user-agent", "wrk"]] as [string, string][],
  body: null,
};

async function run(n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next++ < n) {
      const res = await runner.handleRaw!(request);
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

await run(Math.min(5000, total)); // warm-up
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await run(total);
const wall = performance.now() - t0;
const cpu1 = process.cpuUsage(cpu0);
const cpuUs = cpu1.user + cpu1.system;
console.log(
  `${total} requests, ${inFlight} in flight, ${connections} connections: ` +
    `${(wall * 1000 / total).toFixed(1)} µs wall, ${(cpuUs / total).toFixed(1)} µs CPU per request`,
);
Deno.exit(0);
