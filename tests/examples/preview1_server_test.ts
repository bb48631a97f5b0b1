/**
 * Serves HTTP from examples/preview1-server/preview1-server.wasm through a minimal preview1 socket
 * host (./_preview1_sockets.ts) and talks to it over real loopback connections.
 */
import assert from "node:assert/strict";
import { startPreview1Server } from "./_preview1_sockets.ts";

const WASM = new URL("../../examples/preview1-server/preview1-server.wasm", import.meta.url);
const module = await WebAssembly.compile(await Deno.readFile(WASM));
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP/1.1 client connection that reads responses by Content-Length. */
class Client {
  #buf = new Uint8Array(0);
  private constructor(readonly conn: Deno.TcpConn) {}

  static async open(port: number): Promise<Client> {
    return new Client(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async send(text: string): Promise<void> {
    await this.conn.write(enc.encode(text));
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(4096);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  /** Reads one response; `head` says it answers a HEAD request, so it has no body. */
  async reply(head = false): Promise<Reply> {
    for (;;) {
      const text = dec.decode(this.#buf);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const [line, ...lines] = text.slice(0, end).split("\r\n");
        const headers: Record<string, string> = {};
        for (const l of lines) {
          const at = l.indexOf(":");
          headers[l.slice(0, at).toLowerCase()] = l.slice(at + 1).trim();
        }
        const status = Number(line.split(" ")[1]);
        const length = status === 100 || head ? 0 : Number(headers["content-length"] ?? 0);
        if (this.#buf.length >= end + 4 + length) {
          const body = dec.decode(this.#buf.subarray(end + 4, end + 4 + length));
          this.#buf = this.#buf.slice(end + 4 + length);
          return { status, headers, body };
        }
      }
      if (!(await this.#fill())) throw new Error(`connection closed; have ${JSON.stringify(text)}`);
    }
  }

  /** True when the server closed the connection (and sent nothing more). */
  async closedByServer(): Promise<boolean> {
    return this.#buf.length === 0 && !(await this.#fill());
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

async function withServer(
  fn: (port: number) => Promise<void>,
  options?: { recvChunk?: number; sendChunk?: number },
): Promise<void> {
  const server = await startPreview1Server(module, options);
  try {
    await fn(server.port);
  } finally {
    await server.stop();
  }
}

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

Deno.test("preview1-server answers GET and counts requests across connections", async () => {
  await withServer(async (port) => {
    const a = await Client.open(port);
    await a.send(GET("/hello?x=1"));
    const r = await a.reply();
    assert.equal(r.status, 200);
    assert.equal(r.headers["connection"], "keep-alive");
    assert.equal(
      r.body,
      "hello from preview1-server\nmethod: GET\npath: /hello?x=1\nbody-bytes: 0\n" +
        "request-on-connection: 1\nrequests-served: 1\n",
    );
    a.close();
    const b = await Client.open(port);
    await b.send(GET("/health"));
    assert.equal((await b.reply()).body, "ok\n");
    await b.send(GET("/"));
    assert.match((await b.reply()).body, /request-on-connection: 2\nrequests-served: 3\n$/);
    b.close();
  });
});

Deno.test("preview1-server handles requests split into pieces and partial reads and writes", async () => {
  await withServer(async (port) => {
    const c = await Client.open(port);
    const request = "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789";
    for (let i = 0; i < request.length; i += 4) {
      await c.send(request.slice(i, i + 4));
      await new Promise((r) => setTimeout(r, 1));
    }
    const r = await c.reply();
    assert.equal(r.status, 200);
    assert.match(r.body, /method: POST\npath: \/upload\nbody-bytes: 10\n/);
    c.close();
  }, { recvChunk: 3, sendChunk: 7 });
});

Deno.test("preview1-server answers pipelined requests in order", async () => {
  await withServer(async (port) => {
    const c = await Client.open(port);
    await c.send(GET("/one") + GET("/two") + GET("/three", "Connection: close\r\n"));
    assert.match((await c.reply()).body, /path: \/one\n/);
    assert.match((await c.reply()).body, /path: \/two\n/);
    const last = await c.reply();
    assert.match(last.body, /path: \/three\nbody-bytes: 0\nrequest-on-connection: 3\n/);
    assert.equal(last.headers["connection"], "close");
    assert.ok(await c.closedByServer());
    c.close();
  });
});

Deno.test("preview1-server serves a second connection while the first is mid-request", async () => {
  await withServer(async (port) => {
    const slow = await Client.open(port);
    await slow.send("GET /slow HTTP/1.1\r\nHo");
    const fast = await Client.open(port);
    await fast.send(GET("/fast"));
    assert.match((await fast.reply()).body, /path: \/fast\n/);
    await slow.send("st: t\r\n\r\n");
    assert.match((await slow.reply()).body, /path: \/slow\n/);
    slow.close();
    fast.close();
  });
});

Deno.test("preview1-server closes HTTP/1.0 connections unless asked to keep them", async () => {
  await withServer(async (port) => {
    const c = await Client.open(port);
    await c.send("GET /old HTTP/1.0\r\n\r\n");
    assert.equal((await c.reply()).headers["connection"], "close");
    assert.ok(await c.closedByServer());
    c.close();
    const k = await Client.open(port);
    await k.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal((await k.reply()).headers["connection"], "keep-alive");
    await k.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.match((await k.reply()).body, /request-on-connection: 2/);
    k.close();
  });
});

Deno.test("preview1-server sends 100 Continue when asked", async () => {
  await withServer(async (port) => {
    const c = await Client.open(port);
    await c.send("PUT /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    assert.equal((await c.reply()).status, 100);
    await c.send("abc");
    assert.match((await c.reply()).body, /body-bytes: 3\n/);
    c.close();
  });
});

Deno.test("preview1-server rejects malformed, chunked and oversized requests", async () => {
  await withServer(async (port) => {
    const cases: [string, number][] = [
      ["NONSENSE\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400],
      ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501],
      ["POST / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n", 413],
      ["POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400],
      [`GET / HTTP/1.1\r\nX: ${"a".repeat(9000)}`, 431],
    ];
    for (const [request, status] of cases) {
      const c = await Client.open(port);
      await c.send(request);
      const r = await c.reply();
      assert.equal(r.status, status, request.slice(0, 40));
      assert.equal(r.headers["connection"], "close");
      assert.ok(await c.closedByServer());
      c.close();
    }
  });
});

Deno.test("preview1-server omits the body for HEAD", async () => {
  await withServer(async (port) => {
    const c = await Client.open(port);
    await c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + GET("/after"));
    const head = await c.reply(true);
    assert.equal(head.status, 200);
    assert.ok(Number(head.headers["content-length"]) > 0);
    const after = await c.reply();
    assert.match(after.body, /^hello from preview1-server\nmethod: GET\npath: \/after\n/);
    c.close();
  });
});

Deno.test("preview1-server imports only wasi_snapshot_preview1, including the socket calls", () => {
  const imports = WebAssembly.Module.imports(module);
  assert.deepEqual([...new Set(imports.map((i) => i.module))], ["wasi_snapshot_preview1"]);
  const names = imports.map((i) => i.name);
  for (const name of ["sock_accept", "sock_recv", "sock_send", "poll_oneoff"]) {
    assert.ok(names.includes(name), name);
  }
});

Deno.test("preview1-server survives NUL bytes and garbage", async () => {
  await withServer(async (port) => {
    const c = await Client.open(port);
    await c.send("GET /\0x HTTP/1.1\r\nA\0: b\r\n\r\n");
    const r = await c.reply();
    assert.ok(r.status === 200 || r.status === 400, String(r.status));
    c.close();
    const d = await Client.open(port);
    await d.send(GET("/still-up"));
    assert.match((await d.reply()).body, /path: \/still-up\n/);
    d.close();
  });
});
