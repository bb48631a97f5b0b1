/** `deno run -A main.ts`: the serve command as a user runs it, in a child process. */
import assert from "node:assert/strict";
import { rawFetch } from "./runtime/host/_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const TEST_APPS = new URL("./runtime/host/apps", import.meta.url).pathname;

interface Served {
  child: Deno.ChildProcess;
  port: number;
  /** Everything the server printed so far (stdout and stderr). */
  output: () => string;
  stop: (signal?: Deno.Signal) => Promise<Deno.CommandStatus>;
}

async function serve(args: string[]): Promise<Served> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--port", "0", ...args],
    stdout: "piped",
    stderr: "piped",
    cwd: new URL("..", import.meta.url).pathname,
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += decoder.decode(chunk);
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const deadline = Date.now() + 60_000;
  let port = 0;
  while (!port) {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
    if (m) port = Number(m[1]);
    else if (Date.now() > deadline) throw new Error(`main.ts did not start:\n${output}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    port,
    output: () => output,
    async stop(signal: Deno.Signal = "SIGTERM") {
      child.kill(signal);
      const status = await child.status;
      await pumps;
      return status;
    },
  };
}

Deno.test("main.ts serves the bundled examples by default", async () => {
  const server = await serve([]);
  try {
    const cgi = await rawFetch(server.port, "wcgi-hello.localhost", "/?x=1");
    assert.equal(cgi.status, 200);
    assert.match(await cgi.text(), /hello from wcgi-hello/);
    const wasix = await rawFetch(server.port, "wasix-http-server.localhost", "/health");
    assert.equal(wasix.status, 200);
    assert.match(wasix.headers.get("server-timing")!, /load;dur=.*instantiate;dur=.*execute;dur=/);
    await wasix.text();
    // A HEAD answer says how long the GET body would be.
    const index = await Deno.stat(
      new URL("../examples/wasix-http-server/public/index.html", import.meta.url),
    );
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await conn.write(
      new TextEncoder().encode(
        "HEAD /index.html HTTP/1.1\r\nhost: wasix-http-server.localhost\r\nconnection: close\r\n\r\n",
      ),
    );
    const head = await new Response(conn.readable).text();
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, new RegExp(`\r\ncontent-length: ${index.size}\r\n`, "i"));
    assert.ok(head.endsWith("\r\n\r\n"), "no body");
    const p1 = await rawFetch(server.port, "preview1-server.localhost", "/");
    assert.match(await p1.text(), /hello from preview1-server/);
    const rack = await rawFetch(server.port, "ruby-blog.localhost", "/");
    assert.equal(rack.status, 200);
    assert.match(await rack.text(), /<title>/);
    const health = await (await rawFetch(server.port, "localhost", "/_thaw/health")).json();
    assert.equal(health.status, "ok");
    // Every bundled example is served, and none failed to load.
    const examples: string[] = [];
    for await (const e of Deno.readDir(new URL("../examples", import.meta.url))) {
      try {
        await Deno.stat(new URL(`../examples/${e.name}/app.yaml`, import.meta.url));
        examples.push(e.name);
      } catch { /* not an app */ }
    }
    const served = health.apps.map((a: { name: string; status: string }) =>
      `${a.name}:${a.status}`
    );
    assert.deepEqual(served.sort(), examples.sort().map((n) => `${n}:ok`));
    // A request with no app's Host header gets a 404 that says how to reach each app.
    const lost = await rawFetch(server.port, `127.0.0.1:${server.port}`, "/");
    assert.equal(lost.status, 404);
    const page = await lost.text();
    for (const name of examples) {
      assert.ok(
        page.includes(`curl -H 'Host: ${name}.localhost' http://127.0.0.1:${server.port}/`),
        page,
      );
    }
  } finally {
    const status = await server.stop();
    assert.equal(status.code, 0);
  }
});

Deno.test("main.ts reports broken apps and keeps serving the others", async () => {
  const server = await serve(["--apps", TEST_APPS]);
  try {
    assert.match(await (await rawFetch(server.port, "edge.localhost", "/")).text(), /^hello 1/);
    const out = server.output();
    assert.match(out, /app bad-yaml not served:\n.*bad-yaml\/app\.yaml:2:7: name must be/);
    assert.match(out, /no-module\/app\.yaml:3:10: package "missing\.wasm" does not exist/);
    assert.match(out, /unknown-import\/app\.yaml:3:10: .*imports nowhere\.thing/);
  } finally {
    await server.stop();
  }
});

Deno.test("main.ts --default-app answers unknown hosts", async () => {
  const server = await serve(["--apps", TEST_APPS, "--default-app", "cgi-edge"]);
  try {
    const res = await rawFetch(server.port, "127.0.0.1", "/");
    assert.match(await res.text(), /hello from cgi_edge/);
  } finally {
    await server.stop();
  }
});

Deno.test("main.ts shuts down gracefully on SIGTERM and SIGINT: in-flight requests finish", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const server = await serve(["--apps", TEST_APPS]);
    await (await rawFetch(server.port, "edge.localhost", "/")).text();
    const slow = rawFetch(server.port, "edge.localhost", "/sleep?ms=700");
    await new Promise((r) => setTimeout(r, 250));
    const stopping = server.stop(signal);
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "slept\n");
    const status = await stopping;
    assert.equal(status.code, 0, server.output());
    assert.match(server.output(), new RegExp(`${signal}: finishing in-flight requests`));
  }
});

Deno.test("main.ts rejects bad options with a clear message", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--port", "abc"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /--port must be a non-negative number/);
  const missing = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--apps", "/nonexistent/apps"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(missing.code, 2);
  assert.match(
    new TextDecoder().decode(missing.stderr),
    /--apps \/nonexistent\/apps does not exist/,
  );
});

Deno.test("deno task serve, start and bench:coldstart run with the host's V8 flags", async () => {
  const { HOST_V8_FLAGS } = await import("../runtime/host/mod.ts");
  const tasks = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)))
    .tasks as Record<string, string>;
  const flag = `--v8-flags=${HOST_V8_FLAGS.join(",")}`;
  assert.ok(tasks.serve.includes(`${flag} main.ts`), tasks.serve);
  assert.ok(tasks["bench:coldstart"].includes(flag), tasks["bench:coldstart"]);
  assert.match(tasks.start, /deno task serve/);
  // Each flag exists in this V8: deno refuses a flag V8 does not recognize.
  const check = await new Deno.Command(Deno.execPath(), { args: ["eval", flag, "1"] }).output();
  assert.ok(check.success, new TextDecoder().decode(check.stderr));
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--no-such-thaw-flag", "1"],
  }).output();
  assert.ok(!bad.success);
});
