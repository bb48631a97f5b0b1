/**
 * The guest alone: examples/wasix-http-server over the virtual network in this thread, driven by
 * the proxy runner with K requests in flight (no host, no Worker, no sockets). Prints µs of wall
 * and CPU time per request. Part of the "Host" section of BENCHMARKS.md.
 *
 * Usage: deno run -A bench/host_guest.ts [REQUESTS] [IN_FLIGHT] [CONNECTIONS] [PATH]
 *   defaults: 50000, 16, 16, wire. CONNECTIONS 1 is the one-request-at-a-time runner. PATH is
 *   `wire` (Runner.handleWire with the request already encoded, as an instance Worker drives it)
 *   or `raw` (Runner.handleRaw: the runner encodes each request, one promise per request).
 */
import process from "node:process";
import { instantiate } from "../runtime/instantiate/mod.ts";
import { createProxyRunner, serializeRequestHead, vnetConnection } from "../runtime/runners/mod.ts";
import { VirtualNetwork } from "../runtime/vnet/mod.ts";

const total = Number(Deno.args[0] ?? 50_000);
const inFlight = Number(Deno.args[1] ?? 16);
const connections = Number(Deno.args[2] ?? 16);
const path = Deno.args[3] ?? "wire";
if (path !== "wire" && path !== "raw") throw new Error(`PATH must be wire or raw, not ${path}`);
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

const wire = serializeRequestHead(new Request(request.url, { headers: request.headers }), 0);

function run(n: number): Promise<void> {
  return path === "wire" ? runWire(n) : runRaw(n);
}

async function runRaw(n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next++ < n) {
      const res = await runner.handleRaw!(request);
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

function runWire(n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = 0;
    const send = () => {
      sent++;
      // A fresh copy each time: the runner hands the bytes to the guest's connection.
      runner.handleWire!("GET", wire.slice(), (res) => {
        if (res instanceof Error || res.status !== 200) return reject(new Error(`failed: ${res}`));
        if (++done === n) resolve();
        else if (sent < n) send();
      });
    };
    for (let i = 0; i < Math.min(inFlight, n); i++) send();
  });
}

await run(Math.min(5000, total)); // warm-up
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await run(total);
const wall = performance.now() - t0;
const cpu1 = process.cpuUsage(cpu0);
const cpuUs = cpu1.user + cpu1.system;
console.log(
  `${total} requests, ${inFlight} in flight, ${connections} connections, ${path}: ` +
    `${(wall * 1000 / total).toFixed(1)} µs wall, ${(cpuUs / total).toFixed(1)} µs CPU per request`,
);
Deno.exit(0);
