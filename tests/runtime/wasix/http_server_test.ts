/**
 * End to end: examples/wasix-http-server/server.wasm serves HTTP over the virtual network (the
 * host's `net.connect`) and over a real socket (`--tcplisten`, reached with fetch).
 */
import assert from "node:assert/strict";
import { packageMount } from "../../../runtime/vfs/mod.ts";
import { CollectOutput, importObject, Process } from "../../../runtime/wasi/mod.ts";
import { VirtualNetwork, type VStream } from "../../../runtime/vnet/mod.ts";
import { preopenTcpListener, WASIX_MODULE, wasixImports } from "../../../runtime/wasix/mod.ts";

const exampleDir = new URL("../../../examples/wasix-http-server/", import.meta.url);
const enc = new TextEncoder();
const dec = new TextDecoder();

async function boot(env: Record<string, string>, tcplisten?: string) {
  const module = await WebAssembly.compile(await Deno.readFile(new URL("server.wasm", exampleDir)));
  const stdout = new CollectOutput();
  const net = new VirtualNetwork();
  const proc = new Process({
    args: ["server"],
    env: { PUBLIC_DIR: "/public", ...env },
    preopens: [{ guestPath: "/public", dir: packageMount(new URL("public", exampleDir).pathname) }],
    stdout,
    stderr: stdout,
  });
  const real = tcplisten ? preopenTcpListener(proc, tcplisten) : null;
  const imports = importObject(proc, { [WASIX_MODULE]: wasixImports(proc, { net }) });
  const instance = await WebAssembly.instantiate(module, imports);
  const done = proc.start(instance);
  return { proc, net, done, stdout, real };
}

/** Reads one HTTP response (Content-Length framed) from `conn`. */
async function readResponse(conn: VStream, pending: { buf: Uint8Array }) {
  while (true) {
    const text = dec.decode(pending.buf);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const head = text.slice(0, end);
      const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      const headBytes = enc.encode(head).byteLength + 4;
      if (pending.buf.byteLength >= headBytes + len) {
        const body = pending.buf.slice(headBytes, headBytes + len);
        pending.buf = pending.buf.slice(headBytes + len);
        return { status: Number(head.split(" ")[1]), head, body };
      }
    }
    const chunk = await conn.readAsync();
    if (chunk === null) throw new Error(`Connection closed; got: ${text}`);
    const next = new Uint8Array(pending.buf.byteLength + chunk.byteLength);
    next.set(pending.buf);
    next.set(chunk, pending.buf.byteLength);
    pending.buf = next;
  }
}

Deno.test("wasix-http-server serves keep-alive requests over the virtual network", async () => {
  const { net, stdout } = await boot({ PORT: "8080" });
  const info = await net.firstListen();
  assert.equal(info.address.port, 8080);
  const conn = net.connect(8080);
  const pending = { buf: new Uint8Array(0) };

  conn.write(enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const index = await readResponse(conn, pending);
  assert.equal(index.status, 200);
  assert.match(index.head, /text\/html/);
  assert.match(dec.decode(index.body), /Hello from a WASIX server/);

  for (const expected of ["1", "2", "3"]) {
    conn.write(enc.encode("GET /counter HTTP/1.1\r\nHost: a\r\n\r\n"));
    const r = await readResponse(conn, pending);
    assert.equal(dec.decode(r.body).trim(), expected);
  }

  // Pipelined: two requests in one write.
  conn.write(
    enc.encode("GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n"),
  );
  assert.equal((await readResponse(conn, pending)).status, 200);
  assert.equal((await readResponse(conn, pending)).status, 404);

  // Chunked request body, split across writes.
  conn.write(
    enc.encode("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
  );
  await new Promise((r) => setTimeout(r, 5));
  conn.write(enc.encode("lo\r\n6\r\n world\r\n0\r\n\r\n"));
  const echo = await readResponse(conn, pending);
  assert.equal(dec.decode(echo.body), "hello world");

  // Large Content-Length body (3 MiB) and a large response.
  const big = new Uint8Array(3 << 20).map((_, i) => i % 251);
  conn.write(
    enc.encode(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${big.byteLength}\r\n\r\n`),
  );
  for (let off = 0; off < big.byteLength; off += 1 << 16) {
    await conn.writeAsync(big.slice(off, off + (1 << 16)));
  }
  const bigEcho = await readResponse(conn, pending);
  assert.equal(bigEcho.body.byteLength, big.byteLength);
  assert.deepEqual(bigEcho.body, big);

  // Static file with its MIME type, path escapes refused.
  conn.write(enc.encode("GET /style.css HTTP/1.1\r\nHost: a\r\n\r\n"));
  assert.match((await readResponse(conn, pending)).head, /text\/css/);
  conn.write(enc.encode("GET /../server.c HTTP/1.1\r\nHost: a\r\n\r\n"));
  assert.equal((await readResponse(conn, pending)).status, 404);

  // Malformed request: 400 and the connection closes.
  conn.write(enc.encode("NONSENSE\r\n\r\n"));
  assert.equal((await readResponse(conn, pending)).status, 400);
  assert.equal(await conn.readAsync(), null);
  conn.close();
  assert.match(stdout.text(), /listening/);
});

Deno.test("wasix-http-server serves several connections at once", async () => {
  const { net } = await boot({ PORT: "9090" });
  await net.firstListen();
  const conns = [0, 1, 2, 3].map(() => net.connect(9090));
  // Send on all before reading any: the epoll loop must serve them independently.
  conns.forEach((c, i) =>
    c.write(enc.encode(`GET /bytes?n=${1000 * (i + 1)} HTTP/1.1\r\nHost: a\r\n\r\n`))
  );
  const bodies = await Promise.all(conns.map((c) => readResponse(c, { buf: new Uint8Array(0) })));
  bodies.forEach((r, i) => assert.equal(r.body.byteLength, 1000 * (i + 1)));
  conns.forEach((c) => c.close());
});

Deno.test("wasix-http-server serves real clients through --tcplisten", async () => {
  const { real } = await boot({ LISTEN_FDS: "1" }, "127.0.0.1:0");
  try {
    assert.equal(real!.fd, 4); // after the /public preopen at 3
    const base = `http://127.0.0.1:${real!.address.port}`;
    const first = await (await fetch(`${base}/counter`)).text();
    const second = await (await fetch(`${base}/counter`)).text();
    assert.equal(Number(second), Number(first) + 1);
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /WASIX server/);
    const echo = await fetch(`${base}/echo`, { method: "POST", body: "abc".repeat(10000) });
    assert.equal((await echo.text()).length, 30000);
  } finally {
    real!.listener.close();
  }
});

Deno.test("wasix-http-server answers HEAD without a body and honours Connection: close", async () => {
  const { net } = await boot({ PORT: "8081" });
  await net.firstListen();
  const conn = net.connect(8081);
  conn.write(
    enc.encode("HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n"),
  );
  const pending = { buf: new Uint8Array(0) };
  // HEAD: headers announce the length, no body follows; the next response starts right after.
  while (!dec.decode(pending.buf).includes("ok\n")) {
    const chunk = await conn.readAsync();
    if (chunk === null) break;
    const next = new Uint8Array(pending.buf.byteLength + chunk.byteLength);
    next.set(pending.buf);
    next.set(chunk, pending.buf.byteLength);
    pending.buf = next;
  }
  const text = dec.decode(pending.buf);
  const [head, rest] = [
    text.slice(0, text.indexOf("\r\n\r\n")),
    text.slice(text.indexOf("\r\n\r\n") + 4),
  ];
  assert.match(head, /^HTTP\/1\.1 200 OK/);
  assert.match(head, /Content-Length: [1-9]\d*/);
  assert.match(rest, /^HTTP\/1\.1 200 OK/);

  const c2 = net.connect(8081);
  c2.write(enc.encode("GET /health HTTP/1.0\r\n\r\n"));
  const r = await readResponse(c2, { buf: new Uint8Array(0) });
  assert.match(r.head, /Connection: close/);
  assert.equal(await c2.readAsync(), null);
  conn.close();
  c2.close();
});
