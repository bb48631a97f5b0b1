import assert from "node:assert/strict";
import { createHost } from "../../../runtime/host/mod.ts";
import { fakeApp } from "./_helpers.ts";

function get(host: string, path = "/", init: RequestInit = {}) {
  return new Request(`http://${host}${path}`, init);
}

Deno.test("host routes by Host header and adds Server-Timing", async () => {
  const host = createHost({
    apps: [fakeApp("alpha", { domains: ["alpha.example.com"] }), fakeApp("beta")],
    prespawn: 0,
  });
  try {
    const a = await host.fetch(get("alpha.localhost:8000"));
    assert.equal(a.status, 200);
    assert.match(await a.text(), /^hello from alpha /);
    assert.match(
      a.headers.get("server-timing")!,
      /load;dur=[\d.]+, instantiate;dur=[\d.]+, worker;dur=[\d.]+, execute;dur=[\d.]+/,
    );
    const b = await host.fetch(get("beta.localhost"));
    assert.match(await b.text(), /^hello from beta /);
    assert.match(b.headers.get("server-timing")!, /execute;dur=/);
    const c = await host.fetch(get("alpha.example.com"));
    assert.match(await c.text(), /^hello from alpha /);
    const warm = await host.fetch(get("alpha.localhost"));
    await warm.text();
    assert.match(warm.headers.get("server-timing")!, /instantiate;dur=0.00/);
    const none = await host.fetch(get("nobody.localhost"));
    assert.equal(none.status, 404);
    assert.match(await none.text(), /No app serves host "nobody.localhost"/);
  } finally {
    await host.close();
  }
});

Deno.test("an unknown host gets a 404 that lists the apps and how to reach them", async () => {
  const host = createHost({
    apps: [
      fakeApp("alpha", { domains: ["alpha.example.com"] }),
      fakeApp("beta", { domains: ["beta.localhost"] }),
    ],
    broken: [{ name: "gamma", message: "gamma/app.yaml:1:1: broken" }],
    prespawn: 0,
  });
  try {
    const res = await host.fetch(get("127.0.0.1:8000"));
    assert.equal(res.status, 404);
    const body = await res.text();
    assert.match(body, /^No app serves host "127\.0\.0\.1:8000"\./);
    assert.match(body, /alpha +curl -H 'Host: alpha\.localhost' http:\/\/127\.0\.0\.1:8000\//);
    assert.match(body, /also: alpha\.example\.com/);
    // An app's own <name>.localhost listed among its domains is not repeated.
    assert.doesNotMatch(body, /also: beta\.localhost/);
    assert.match(body, /beta +curl -H 'Host: beta\.localhost' http:\/\/127\.0\.0\.1:8000\//);
    assert.match(body, /gamma +failed to load; see \/_thaw\/health/);
    assert.match(body, /http:\/\/alpha\.localhost:8000\/ works/);
    assert.match(body, /--default-app NAME/);
  } finally {
    await host.close();
  }
  const empty = createHost({ apps: [], prespawn: 0 });
  try {
    const res = await empty.fetch(get("127.0.0.1"));
    assert.equal(res.status, 404);
    assert.match(await res.text(), /This server has no apps\. Start it with --apps DIR/);
  } finally {
    await empty.close();
  }
});

Deno.test("host serves the default app for unknown hosts", async () => {
  const host = createHost({ apps: [fakeApp("main")], defaultApp: "main", prespawn: 0 });
  try {
    const res = await host.fetch(get("127.0.0.1:8000"));
    assert.match(await res.text(), /^hello from main /);
  } finally {
    await host.close();
  }
});

Deno.test("host echoes request bodies and streams 10 MB responses", async () => {
  const host = createHost({ apps: [fakeApp("echo")], prespawn: 0 });
  try {
    const body = new Uint8Array(10 * 1024 * 1024).fill(7);
    const res = await host.fetch(get("echo.localhost", "/echo", { method: "POST", body }));
    assert.equal(res.headers.get("x-method"), "POST");
    assert.equal((await res.arrayBuffer()).byteLength, body.length);
    const big = await host.fetch(get("echo.localhost", "/big"));
    assert.equal((await big.arrayBuffer()).byteLength, 10 * 1024 * 1024);
  } finally {
    await host.close();
  }
});

Deno.test("host answers 504 for an infinite loop and keeps serving", async () => {
  const host = createHost({
    apps: [fakeApp("spin"), fakeApp("other")],
    requestTimeoutMs: 300,
    prespawn: 0,
  });
  try {
    const first = await (await host.fetch(get("spin.localhost"))).text();
    const looping = host.fetch(get("spin.localhost", "/loop"));
    const other = await host.fetch(get("other.localhost"));
    assert.equal(other.status, 200);
    await other.text();
    const res = await looping;
    assert.equal(res.status, 504);
    assert.match(await res.text(), /execution limit/);
    const after = await host.fetch(get("spin.localhost"));
    assert.equal(after.status, 200);
    const text = await after.text();
    assert.notEqual(text, first, "a fresh instance replaced the killed one");
    assert.match(
      host.metrics.render(),
      /thaw_instance_stops_total\{app="spin",reason="timeout"\} 1/,
    );
  } finally {
    await host.close();
  }
});

Deno.test("host answers 502 for a crash or trap and replaces the instance", async () => {
  const host = createHost({ apps: [fakeApp("crashy")], prespawn: 0 });
  try {
    const first = await (await host.fetch(get("crashy.localhost"))).text();
    const crash = await host.fetch(get("crashy.localhost", "/crash"));
    assert.equal(crash.status, 502);
    assert.match(await crash.text(), /crashed/);
    const second = await (await host.fetch(get("crashy.localhost"))).text();
    assert.notEqual(second, first);
    const trap = await host.fetch(get("crashy.localhost", "/trap"));
    assert.equal(trap.status, 502);
    assert.match(await trap.text(), /unreachable/);
    const third = await (await host.fetch(get("crashy.localhost"))).text();
    assert.notEqual(third, second);
  } finally {
    await host.close();
  }
});

Deno.test("host answers 502 for a malformed guest response without killing the instance", async () => {
  const host = createHost({ apps: [fakeApp("bad")], prespawn: 0 });
  try {
    const first = await (await host.fetch(get("bad.localhost"))).text();
    const bad = await host.fetch(get("bad.localhost", "/bad"));
    assert.equal(bad.status, 502);
    assert.match(await bad.text(), /malformed status line/);
    assert.equal(await (await host.fetch(get("bad.localhost"))).text(), first);
  } finally {
    await host.close();
  }
});

Deno.test("host scales an idle app to zero and cold-starts it again", async () => {
  const host = createHost({ apps: [fakeApp("sleepy")], idleTimeoutMs: 100, prespawn: 0 });
  try {
    const first = await (await host.fetch(get("sleepy.localhost"))).text();
    assert.match(host.metrics.render(), /thaw_instances\{app="sleepy"\} 1/);
    await new Promise((r) => setTimeout(r, 300));
    assert.match(host.metrics.render(), /thaw_instances\{app="sleepy"\} 0/);
    const res = await host.fetch(get("sleepy.localhost"));
    const second = await res.text();
    assert.notEqual(second, first);
    assert.doesNotMatch(res.headers.get("server-timing")!, /instantiate;dur=0.00,/);
    assert.match(host.metrics.render(), /thaw_cold_starts_total\{app="sleepy"\} 2/);
    assert.match(
      host.metrics.render(),
      /thaw_instance_stops_total\{app="sleepy",reason="idle"\} 1/,
    );
  } finally {
    await host.close();
  }
});

Deno.test("host reports a boot failure as 502 and a broken app as 503", async () => {
  const host = createHost({
    apps: [fakeApp("noboot", {}, { FAIL_BOOT: "1" })],
    broken: [{ name: "broken", message: "examples/broken/app.yaml:3:7: name must be lowercase" }],
    prespawn: 0,
  });
  try {
    const res = await host.fetch(get("noboot.localhost"));
    assert.equal(res.status, 502);
    assert.match(await res.text(), /boot failed on purpose/);
    const broken = await host.fetch(get("broken.localhost"));
    assert.equal(broken.status, 503);
    assert.match(await broken.text(), /app\.yaml:3:7/);
    const health = await (await host.fetch(get("x.localhost", "/_thaw/health"))).json();
    assert.equal(health.status, "ok");
    assert.deepEqual(health.apps.map((a: { name: string }) => a.name), ["noboot", "broken"]);
  } finally {
    await host.close();
  }
});

Deno.test("host exposes Prometheus metrics per app", async () => {
  const host = createHost({ apps: [fakeApp("counted")], prespawn: 0 });
  try {
    for (let i = 0; i < 3; i++) await (await host.fetch(get("counted.localhost"))).text();
    await (await host.fetch(get("counted.localhost", "/missing"))).text();
    const res = await host.fetch(get("anything", "/_thaw/metrics"));
    assert.match(res.headers.get("content-type")!, /text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /# TYPE thaw_requests_total counter/);
    assert.match(text, /thaw_requests_total\{app="counted",code="200"\} 3/);
    assert.match(text, /thaw_requests_total\{app="counted",code="404"\} 1/);
    assert.match(text, /thaw_cold_starts_total\{app="counted"\} 1/);
    assert.match(text, /thaw_request_duration_seconds_count\{app="counted"\} 4/);
    assert.match(text, /thaw_request_duration_seconds_bucket\{app="counted",le="\+Inf"\} 4/);
  } finally {
    await host.close();
  }
});

Deno.test("host rejects bodies over the limit with 413", async () => {
  const host = createHost({ apps: [fakeApp("small")], maxBodyBytes: 10, prespawn: 0 });
  try {
    const res = await host.fetch(
      get("small.localhost", "/echo", { method: "POST", body: "x".repeat(11) }),
    );
    assert.equal(res.status, 413);
    await res.text();
  } finally {
    await host.close();
  }
});

Deno.test("host close() lets in-flight requests finish", async () => {
  const host = createHost({ apps: [fakeApp("drain")], prespawn: 0 });
  await (await host.fetch(get("drain.localhost"))).text();
  const slow = host.fetch(get("drain.localhost", "/slow?ms=200"));
  await new Promise((r) => setTimeout(r, 50));
  const closing = host.close();
  const res = await slow;
  assert.equal(await res.text(), "slow done");
  await closing;
  const after = await host.fetch(get("drain.localhost"));
  assert.equal(after.status, 503);
  await after.text();
});

Deno.test("host install() swaps in a new version while in-flight requests finish on the old", async () => {
  const host = createHost({ apps: [fakeApp("swap")], prespawn: 0 });
  try {
    const first = await (await host.fetch(get("swap.localhost"))).text();
    const slow = host.fetch(get("swap.localhost", "/slow?ms=300"));
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([
      host.install(fakeApp("swap", { domains: ["swap.example.test"] })),
      (async () => {
        const res = await slow;
        assert.equal(await res.text(), "slow done");
      })(),
    ]);
    const after = await (await host.fetch(get("swap.example.test"))).text();
    assert.match(after, /^hello from swap /);
    assert.notEqual(after, first);
    const installed = await host.fetch(get("new.localhost"));
    assert.equal(installed.status, 404);
    await installed.text();
    await host.install(fakeApp("new"));
    assert.match(await (await host.fetch(get("new.localhost"))).text(), /^hello from new /);
  } finally {
    await host.close();
  }
});

Deno.test("host routes /_thaw/admin/ to the admin handler when given one", async () => {
  const host = createHost({
    apps: [],
    prespawn: 0,
    admin: (req) => Promise.resolve(new Response(`admin ${new URL(req.url).pathname}`)),
  });
  try {
    assert.equal(
      await (await host.fetch(get("x", "/_thaw/admin/apps"))).text(),
      "admin /_thaw/admin/apps",
    );
  } finally {
    await host.close();
  }
});
