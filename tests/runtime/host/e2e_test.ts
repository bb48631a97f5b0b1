/**
 * End to end: the real host (loadApps + createHost + Deno.serve) on a loopback port, serving the
 * C guests in ./guests through ./apps, driven by a raw HTTP/1.1 client.
 */
import assert from "node:assert/strict";
import { createHost, type HostOptions, loadApps } from "../../../runtime/host/mod.ts";
import { rawFetch } from "./_helpers.ts";

const APPS = new URL("./apps", import.meta.url).pathname;

async function withHost(
  options: Partial<HostOptions>,
  fn: (port: number, host: ReturnType<typeof createHost>) => Promise<void>,
) {
  const { apps, broken } = await loadApps(APPS);
  const host = createHost({ apps, broken, prespawn: 1, log: () => {}, ...options });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, host.fetch);
  try {
    await fn(server.addr.port, host);
  } finally {
    await server.shutdown();
    await host.close();
  }
}

async function text(res: Response | Promise<Response>): Promise<string> {
  return await (await res).text();
}

Deno.test("proxy runner: a preview1 guest on fd 3 answers, with keep-alive to the guest", async () => {
  await withHost({}, async (port) => {
    const first = await rawFetch(port, "edge.localhost", "/");
    assert.equal(first.status, 200);
    assert.match(first.headers.get("server-timing")!, /instantiate;dur=[1-9]/);
    assert.equal(await first.text(), "hello 1\n");
    assert.equal(await text(rawFetch(port, "edge.localhost", "/")), "hello 2\n");
  });
});

Deno.test("routing: <name>.localhost, listed domains and wildcards reach their app", async () => {
  await withHost({}, async (port) => {
    assert.match(await text(rawFetch(port, "edge.example.test:80", "/")), /^hello /);
    assert.match(await text(rawFetch(port, "deep.wild.test", "/")), /^hello /);
    assert.match(await text(rawFetch(port, "cgi-edge.localhost", "/")), /hello from cgi_edge/);
    const none = await rawFetch(port, "nobody.localhost", "/");
    assert.equal(none.status, 404);
    assert.match(await none.text(), /cgi-edge\.localhost/);
  });
});

Deno.test("proxy runner: chunked guest bodies, 10 MB both ways, chunked client bodies", async () => {
  await withHost({}, async (port) => {
    assert.equal(await text(rawFetch(port, "edge.localhost", "/chunked")), "hello chunky world!");
    const big = await rawFetch(port, "edge.localhost", "/big");
    assert.equal((await big.arrayBuffer()).byteLength, 10 * 1024 * 1024);
    const body = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body[i] = i & 0xff;
    const echo = await rawFetch(port, "edge.localhost", "/echo", { body, chunkSize: 1 << 20 });
    const back = new Uint8Array(await echo.arrayBuffer());
    assert.equal(back.length, body.length);
    assert.deepEqual(back.subarray(0, 65536), body.subarray(0, 65536));
    assert.deepEqual(back.subarray(-65536), body.subarray(-65536));
  });
});

Deno.test("proxy runner: malformed answers and early closes give 502, the app keeps serving", async () => {
  await withHost({}, async (port) => {
    const bad = await rawFetch(port, "edge.localhost", "/bad");
    assert.equal(bad.status, 502);
    assert.match(await bad.text(), /malformed status line/);
    const closed = await rawFetch(port, "edge.localhost", "/close");
    assert.equal(closed.status, 502);
    assert.match(await closed.text(), /closed the connection/);
    // A small response is read whole before the client sees its head, so a truncated one is
    // caught in time for a 502 (larger ones are streamed and end early instead).
    const partial = await rawFetch(port, "edge.localhost", "/partial");
    assert.equal(partial.status, 502);
    assert.match(await partial.text(), /95 body bytes still to send/);
    assert.match(await text(rawFetch(port, "edge.localhost", "/")), /^hello \d+\n$/);
  });
});

Deno.test("wcgi runner: request in env and stdin, redirects, malformed output", async () => {
  await withHost({}, async (port) => {
    const res = await rawFetch(port, "cgi-edge.localhost", "/?a=1", { body: "12345" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-cgi"), "edge");
    assert.equal(await res.text(), "hello from cgi_edge\nmethod=POST query=a=1 body=5\n");
    const redirect = await rawFetch(port, "cgi-edge.localhost", "/redirect");
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), "/elsewhere");
    await redirect.text();
    const bad = await rawFetch(port, "cgi-edge.localhost", "/bad");
    assert.equal(bad.status, 502);
    assert.match(await bad.text(), /no header block/);
    const trap = await rawFetch(port, "cgi-edge.localhost", "/trap");
    assert.equal(trap.status, 502);
    assert.match(await trap.text(), /trap|unreachable/);
    assert.match(await text(rawFetch(port, "cgi-edge.localhost", "/")), /hello from cgi_edge/);
  });
});

Deno.test("limits: an infinite loop gets 504, other apps keep serving, the app recovers", async () => {
  await withHost({ requestTimeoutMs: 1000 }, async (port, host) => {
    assert.equal(await text(rawFetch(port, "edge.localhost", "/")), "hello 1\n");
    const looping = rawFetch(port, "edge.localhost", "/loop");
    const cgiLoop = rawFetch(port, "cgi-edge.localhost", "/loop");
    await new Promise((r) => setTimeout(r, 200));
    assert.match(await text(rawFetch(port, "edge-small.localhost", "/")), /^hello 1/);
    const res = await looping;
    assert.equal(res.status, 504);
    assert.match(await res.text(), /execution limit/);
    assert.equal((await cgiLoop).status, 504);
    await (await cgiLoop).text().catch(() => {});
    // A fresh instance: its request counter starts again.
    assert.equal(await text(rawFetch(port, "edge.localhost", "/")), "hello 1\n");
    assert.match(
      host.metrics.render(),
      /thaw_instance_stops_total\{app="edge",reason="timeout"\} 1/,
    );
  });
});

Deno.test("limits: capabilities.memory.limit makes large allocations fail in the guest", async () => {
  await withHost({}, async (port) => {
    const small = await rawFetch(port, "edge-small.localhost", "/alloc?mb=1");
    assert.equal(await small.text(), "allocated\n");
    const big = await rawFetch(port, "edge-small.localhost", "/alloc?mb=16");
    assert.equal(big.status, 507);
    assert.equal(await big.text(), "alloc failed\n");
    // The app without a limit can allocate the same amount.
    assert.equal(await text(rawFetch(port, "edge.localhost", "/alloc?mb=16")), "allocated\n");
  });
});

Deno.test("crash recovery: a trapping guest gives 502 and is replaced", async () => {
  await withHost({}, async (port, host) => {
    assert.equal(await text(rawFetch(port, "edge.localhost", "/")), "hello 1\n");
    const trap = await rawFetch(port, "edge.localhost", "/trap");
    assert.equal(trap.status, 502);
    assert.match(await trap.text(), /unreachable/);
    assert.equal(await text(rawFetch(port, "edge.localhost", "/")), "hello 1\n");
    assert.match(host.metrics.render(), /thaw_instance_stops_total\{app="edge",reason="crash"\} 1/);
  });
});

Deno.test("scale to zero: an idle app stops, the next request cold-starts it", async () => {
  await withHost({ idleTimeoutMs: 300 }, async (port, host) => {
    assert.equal(await text(rawFetch(port, "edge.localhost", "/")), "hello 1\n");
    assert.equal(await text(rawFetch(port, "edge.localhost", "/")), "hello 2\n");
    await new Promise((r) => setTimeout(r, 800));
    assert.match(host.metrics.render(), /thaw_instances\{app="edge"\} 0/);
    const cold = await rawFetch(port, "edge.localhost", "/");
    assert.equal(await cold.text(), "hello 1\n");
    assert.match(cold.headers.get("server-timing")!, /instantiate;dur=[1-9]/);
    const metrics = await text(rawFetch(port, "any", "/_thaw/metrics"));
    assert.match(metrics, /thaw_cold_starts_total\{app="edge"\} 2/);
    assert.match(metrics, /thaw_instance_stops_total\{app="edge",reason="idle"\} 1/);
    assert.match(metrics, /thaw_requests_total\{app="edge",code="200"\} 3/);
    assert.match(metrics, /thaw_request_duration_seconds_count\{app="edge"\} 3/);
    assert.match(metrics, /thaw_cold_start_duration_seconds_count\{app="edge"\} 2/);
  });
});

Deno.test("bad input: broken apps are reported with file:line:column and answer 503", async () => {
  await withHost({}, async (port) => {
    const health = await (await rawFetch(port, "x", "/_thaw/health")).json();
    const byName = Object.fromEntries(
      health.apps.map((a: { name: string }) => [a.name, a]),
    );
    assert.equal(byName.edge.status, "ok");
    assert.match(byName["bad-yaml"].error, /bad-yaml\/app\.yaml:2:7: name must be lowercase/);
    assert.match(byName["no-module"].error, /no-module\/app\.yaml:3:10: package "missing\.wasm"/);
    assert.match(
      byName["unknown-import"].error,
      /unknown-import\/app\.yaml:3:10: .*imports nowhere\.thing/,
    );
    const res = await rawFetch(port, "unknown-import.localhost", "/");
    assert.equal(res.status, 503);
    assert.match(await res.text(), /nowhere\.thing/);
    assert.match(await text(rawFetch(port, "edge.localhost", "/")), /^hello/);
  });
});
