/** Host behaviour that is about the network, over real loopback sockets (fake JS guests). */
import assert from "node:assert/strict";
import { createHost, type Host } from "../../../runtime/host/mod.ts";
import { fakeApp, rawFetch } from "./_helpers.ts";

async function withServer(
  host: Host,
  fn: (port: number, server: Deno.HttpServer) => Promise<void>,
) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, host.fetch);
  try {
    await fn(server.addr.port, server);
  } finally {
    await server.shutdown();
    await host.close();
  }
}

async function readResponses(conn: Deno.Conn, count: number): Promise<string> {
  const dec = new TextDecoder();
  let text = "";
  const buf = new Uint8Array(65536);
  while (
    (text.match(/HTTP\/1\.1 /g) ?? []).length < count ||
    !text.endsWith("\r\n\r\n") && !/\r\n\r\n[^]*\S$/.test(text)
  ) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += dec.decode(buf.subarray(0, n));
    if ((text.match(/hello from/g) ?? []).length >= count) break;
  }
  return text;
}

Deno.test("host keeps client connections alive across requests", async () => {
  await withServer(createHost({ apps: [fakeApp("ka")], prespawn: 0 }), async (port) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const req = "GET / HTTP/1.1\r\nHost: ka.localhost\r\n\r\n";
      await conn.write(new TextEncoder().encode(req + req));
      const text = await readResponses(conn, 2);
      assert.equal((text.match(/HTTP\/1\.1 200/g) ?? []).length, 2);
      assert.match(text, /server-timing: /i);
    } finally {
      conn.close();
    }
  });
});

Deno.test("host accepts a chunked request body and returns 10 MB over loopback", async () => {
  await withServer(createHost({ apps: [fakeApp("big")], prespawn: 0 }), async (port) => {
    const body = new Uint8Array(10 * 1024 * 1024).fill(120);
    const res = await rawFetch(port, "big.localhost", "/echo", { body, chunkSize: 100_000 });
    assert.equal(res.status, 200);
    assert.equal((await res.arrayBuffer()).byteLength, body.length);
    const big = await rawFetch(port, "big.localhost", "/big");
    assert.equal((await big.arrayBuffer()).byteLength, 10 * 1024 * 1024);
  });
});

Deno.test("server shutdown lets an in-flight request finish", async () => {
  const host = createHost({ apps: [fakeApp("grace")], prespawn: 0 });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, host.fetch);
  const port = server.addr.port;
  await (await rawFetch(port, "grace.localhost", "/")).text();
  const slow = rawFetch(port, "grace.localhost", "/slow?ms=300");
  await new Promise((r) => setTimeout(r, 100));
  const stopping = server.shutdown().then(() => host.close());
  const res = await slow;
  assert.equal(await res.text(), "slow done");
  await stopping;
});
