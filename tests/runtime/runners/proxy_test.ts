import assert from "node:assert/strict";
import {
  connectionFromStreams,
  createProxyRunner,
  type GuestConnection,
  serializeRequestHead,
  vnetConnection,
  type WireResult,
} from "../../../runtime/runners/mod.ts";
import { createStreamPair } from "../../../runtime/vnet/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * How the runner reaches the fake guest: Web streams (the pull reader only), or a virtual-network
 * connection (answers read as the guest writes them).
 */
type Mode = "streams" | "vnet";
const MODES: Mode[] = ["streams", "vnet"];

/** Registers one test per connection mode. */
function both(name: string, fn: (mode: Mode) => Promise<void>) {
  for (const mode of MODES) Deno.test(`${name} (${mode})`, () => fn(mode));
}

/**
 * The complete requests at the front of `pending`, and what remains. A request in these tests is
 * complete once its Content-Length bytes follow the head.
 */
function completeRequests(pending: string): [string[], string] {
  const raws: string[] = [];
  while (true) {
    const end = pending.indexOf("\r\n\r\n");
    if (end < 0) break;
    const m = /content-length: (\d+)/i.exec(pending.slice(0, end));
    const total = end + 4 + (m ? Number(m[1]) : 0);
    if (pending.length < total) break;
    raws.push(pending.slice(0, total));
    pending = pending.slice(total);
  }
  return [raws, pending];
}

const LOCAL = { family: "ipv4", ip: "127.0.0.1", port: 80 } as const;

/** A scripted guest over the virtual network; see {@linkcode fakeGuest}. */
function vnetGuest(respond: (raw: string, conn: number) => (string | Uint8Array)[] | "close") {
  let connections = 0;
  return {
    connect: (): Promise<GuestConnection> => {
      const id = ++connections;
      const [host, guest] = createStreamPair({ ...LOCAL, port: 40000 + id }, LOCAL);
      (async () => {
        let pending = "";
        while (true) {
          const chunk = await guest.readAsync();
          if (chunk === null) break;
          const [raws, rest] = completeRequests(pending + dec.decode(chunk));
          pending = rest;
          for (const raw of raws) {
            const out = respond(raw, id);
            if (out === "close") return guest.close();
            for (const part of out) {
              if (part === "close") return guest.close();
              guest.write(typeof part === "string" ? enc.encode(part) : part);
              // Each part arrives on its own, as a guest's separate writes would.
              await new Promise((resolve) => setTimeout(resolve, 0));
            }
          }
        }
        guest.close();
      })().catch(() => {});
      return Promise.resolve(vnetConnection(host));
    },
    count: () => connections,
  };
}

/** A scripted guest: `respond` gets each raw request head+body and returns the bytes to write. */
function fakeGuest(
  respond: (raw: string, conn: number) => (string | Uint8Array)[] | "close",
  mode: Mode = "streams",
) {
  if (mode === "vnet") return { ...vnetGuest(respond), streams: undefined as never };
  let connections = 0;
  const connect = () => {
    const id = ++connections;
    const toGuest = new TransformStream<Uint8Array, Uint8Array>();
    const fromGuest = new TransformStream<Uint8Array, Uint8Array>();
    const writer = fromGuest.writable.getWriter();
    (async () => {
      let pending = "";
      const reader = toGuest.readable.getReader();
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        const [raws, rest] = completeRequests(pending + dec.decode(value));
        pending = rest;
        for (const raw of raws) {
          const out = respond(raw, id);
          if (out === "close") {
            await writer.close().catch(() => {});
            return;
          }
          for (const part of out) {
            if (part === "close") {
              await writer.close().catch(() => {});
              return;
            }
            await writer.write(typeof part === "string" ? enc.encode(part) : part);
          }
        }
      }
      await writer.close().catch(() => {});
    })().catch(() => {});
    const streams = { readable: fromGuest.readable, writable: toGuest.writable };
    return Promise.resolve(streams);
  };
  return {
    connect: async (): Promise<GuestConnection> => {
      const { readable, writable } = await connect();
      return connectionFromStreams(readable, writable);
    },
    streams: connect,
    count: () => connections,
  };
}

Deno.test("serializeRequestHead() writes request line, host and content-length", () => {
  const req = new Request("http://app.localhost:8000/p?q=1", {
    method: "POST",
    headers: { "x-a": "1", connection: "close" },
  });
  const head = dec.decode(serializeRequestHead(req, 5));
  assert.match(head, /^POST \/p\?q=1 HTTP\/1\.1\r\n/);
  assert.match(head, /x-a: 1\r\n/);
  assert.match(head, /host: app\.localhost:8000\r\n/);
  assert.match(head, /content-length: 5\r\n/);
  assert.doesNotMatch(head, /connection: close/);
  assert.ok(head.endsWith("\r\n\r\n"));
});

both("proxy runner parses a content-length response and reuses the connection", async (mode) => {
  const guest = fakeGuest((raw) => {
    const path = raw.split(" ")[1];
    return [`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\nX-Y: z\r\n\r\n${path}`];
  }, mode);
  const runner = createProxyRunner({ connect: guest.connect });
  for (const path of ["/a", "/bb", "/ccc"]) {
    const res = await runner.handle(new Request(`http://x.localhost${path}`));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-y"), "z");
    assert.equal(await res.text(), path);
  }
  assert.equal(guest.count(), 1);
});

both("proxy runner decodes chunked bodies with extensions and trailers", async (mode) => {
  const guest = fakeGuest(() => [
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    "5;ext=1\r\nhello\r\n",
    "1\r\n \r\n6\r\nworld!\r\n",
    "0\r\nX-Trailer: t\r\n\r\n",
  ], mode);
  const runner = createProxyRunner({ connect: guest.connect });
  const res = await runner.handle(new Request("http://x.localhost/"));
  assert.equal(await res.text(), "hello world!");
  const again = await runner.handle(new Request("http://x.localhost/"));
  assert.equal(await again.text(), "hello world!");
  assert.equal(guest.count(), 1);
});

both("proxy runner sends and receives 10 MB bodies", async (mode) => {
  const size = 10 * 1024 * 1024;
  const guest = fakeGuest((raw) => {
    const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
    return [`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`, body];
  }, mode);
  const runner = createProxyRunner({ connect: guest.connect });
  const payload = "x".repeat(size);
  const res = await runner.handle(
    new Request("http://x.localhost/", { method: "POST", body: payload }),
  );
  const text = await res.text();
  assert.equal(text.length, size);
});

both("proxy runner reads close-delimited bodies and opens a new connection after", async (mode) => {
  const guest = fakeGuest(() => ["HTTP/1.0 200 OK\r\n\r\nbye", "close"] as never, mode);
  const runner = createProxyRunner({
    connect: async () => {
      const c = await guest.connect();
      return c;
    },
  });
  // The scripted guest writes then closes, so the body ends at end of stream.
  const res = await runner.handle(new Request("http://x.localhost/"));
  assert.equal(await res.text(), "bye");
  assert.equal(await (await runner.handle(new Request("http://x.localhost/"))).text(), "bye");
  assert.equal(guest.count(), 2);
});

both("proxy runner rejects a malformed status line with a 502 error", async (mode) => {
  const guest = fakeGuest(() => ["NOT HTTP\r\n\r\n"], mode);
  const runner = createProxyRunner({ connect: guest.connect });
  await assert.rejects(
    runner.handle(new Request("http://x.localhost/")),
    (err: Error & { status?: number }) => {
      assert.equal(err.status, 502);
      assert.match(err.message, /malformed status line/);
      return true;
    },
  );
});

both("proxy runner reports a guest that closes before the response head", async (mode) => {
  const guest = fakeGuest(() => "close", mode);
  const runner = createProxyRunner({ connect: guest.connect });
  await assert.rejects(runner.handle(new Request("http://x.localhost/")), /closed the connection/);
});

Deno.test("proxy runner errors the body when the guest closes mid-body", async () => {
  let calls = 0;
  const guest = fakeGuest(() => {
    calls++;
    // Over the inline limit, so the body is streamed and the error reaches the body.
    return calls === 1 ? ["HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nshort"] : "close";
  });
  // The fake guest closes its side on the request after; make it close right away instead.
  const runner = createProxyRunner({
    connect: async () => {
      const c = await guest.streams();
      const reader = c.readable.getReader();
      const readable = new ReadableStream<Uint8Array>({
        async pull(ctrl) {
          const { value, done } = await reader.read();
          if (done) return ctrl.close();
          ctrl.enqueue(value);
          ctrl.close(); // the guest goes away after its first write
        },
      });
      return connectionFromStreams(readable, c.writable);
    },
  });
  const res = await runner.handle(new Request("http://x.localhost/"));
  await assert.rejects(res.text());
  // The broken connection is dropped; the next request opens a new one.
  const guest2Res = runner.handle(new Request("http://x.localhost/"));
  await assert.rejects(guest2Res);
  assert.equal(guest.count(), 2);
});

both("proxy runner retries once when a kept-alive connection went stale", async (mode) => {
  let served = 0;
  const guest = fakeGuest((_raw, conn) => {
    served++;
    if (conn === 1 && served > 1) return "close";
    return ["HTTP/1.1 204 No Content\r\n\r\n"];
  }, mode);
  const runner = createProxyRunner({ connect: guest.connect });
  assert.equal((await runner.handle(new Request("http://x.localhost/"))).status, 204);
  assert.equal((await runner.handle(new Request("http://x.localhost/"))).status, 204);
  assert.equal(guest.count(), 2);
});

both("proxy runner handles HEAD responses with a Content-Length and no body", async (mode) => {
  const guest = fakeGuest(() => ["HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"], mode);
  const runner = createProxyRunner({ connect: guest.connect });
  const res = await runner.handle(new Request("http://x.localhost/", { method: "HEAD" }));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-length"), "42", "the length a GET would have");
  const next = await runner.handle(new Request("http://x.localhost/", { method: "HEAD" }));
  assert.equal(next.status, 200);
  assert.equal(guest.count(), 1);
});

both("proxy runner skips 100 Continue interim responses", async (mode) => {
  const guest = fakeGuest(
    () => ["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
    mode,
  );
  const runner = createProxyRunner({ connect: guest.connect });
  assert.equal(await (await runner.handle(new Request("http://x.localhost/"))).text(), "ok");
});

both("proxy runner rejects a small response cut short before the client sees it", async (mode) => {
  const guest = fakeGuest(
    () => ["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", "close"] as never,
    mode,
  );
  const runner = createProxyRunner({ connect: guest.connect });
  await assert.rejects(
    runner.handle(new Request("http://x.localhost/")),
    /95 body bytes still to send/,
  );
});

both("proxy runner answers plain data from handleRaw for small bodies", async (mode) => {
  const guest = fakeGuest(
    () => ["HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok"],
    mode,
  );
  const runner = createProxyRunner({ connect: guest.connect });
  const raw = await runner.handleRaw!({
    method: "POST",
    url: "http://x.localhost/p?q",
    headers: [["host", "x.localhost"]],
    body: new TextEncoder().encode("hi"),
  });
  assert.ok(!(raw instanceof Response));
  assert.equal(raw.status, 201);
  assert.deepEqual(raw.headers, [["x-a", "b"]]);
  assert.equal(dec.decode(raw.body!), "ok");
});

both("proxy runner rejects a malformed chunk size", async (mode) => {
  const guest = fakeGuest(
    () => ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
    mode,
  );
  const runner = createProxyRunner({ connect: guest.connect });
  const res = await runner.handle(new Request("http://x.localhost/"));
  await assert.rejects(res.text(), /malformed chunk size/);
});

both("proxy runner keeps one request in flight by default", async (mode) => {
  const guest = fakeGuest((raw) => {
    const path = raw.split(" ")[1];
    return [`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`];
  }, mode);
  const runner = createProxyRunner({ connect: guest.connect });
  const paths = ["/a", "/b", "/c", "/d"];
  const bodies = await Promise.all(
    paths.map(async (p) => (await runner.handle(new Request(`http://x.localhost${p}`))).text()),
  );
  assert.deepEqual(bodies, paths);
  assert.equal(guest.count(), 1);
});

Deno.test("proxy runner spreads concurrent requests over up to maxConnections connections", async () => {
  // The guest holds every answer until four requests have arrived, each on its own connection:
  // a runner with one connection would never get there.
  const held: (() => void)[] = [];
  const guest = fakeGuest((raw, conn) => {
    const path = raw.split(" ")[1];
    const body = `${path} on ${conn}`;
    return [`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`];
  });
  let writes = 0;
  const connect = async (): Promise<GuestConnection> => {
    const inner = await guest.connect();
    return {
      write: async (chunk) => {
        await inner.write(chunk);
        if (++writes < 4) await new Promise<void>((resolve) => held.push(resolve));
        else for (const release of held.splice(0)) release();
      },
      read: () => inner.read(),
      close: () => inner.close(),
    };
  };
  const runner = createProxyRunner({ connect, maxConnections: 4 });
  const paths = ["/a", "/b", "/c", "/d", "/e", "/f"];
  const results = await Promise.all(paths.map((p) =>
    runner.handleRaw!({
      method: "GET",
      url: `http://x.localhost${p}`,
      headers: [],
      body: null,
    })
  ));
  const bodies = results.map((r) => dec.decode((r as { body: Uint8Array }).body));
  assert.deepEqual(bodies.map((b) => b.split(" ")[0]), paths);
  // Four connections opened, then reused for the last two requests.
  assert.equal(guest.count(), 4);
  assert.equal(new Set(bodies.map((b) => b.split(" on ")[1])).size, 4);
});

both("proxy runner frees the slot of a failed connection for the next request", async (mode) => {
  let calls = 0;
  const guest = fakeGuest(() => {
    calls++;
    return calls === 1 ? "close" : ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"];
  }, mode);
  const runner = createProxyRunner({ connect: guest.connect, maxConnections: 1 });
  await assert.rejects(
    runner.handle(new Request("http://x.localhost/1")),
    /in the middle of a response status line/,
  );
  const res = await runner.handle(new Request("http://x.localhost/2"));
  assert.equal(await res.text(), "ok");
});

Deno.test("proxy runner parses an answer that arrives in pieces over the virtual network", async () => {
  const guest = fakeGuest(
    () => ["HTTP/1.1 200 OK\r\nContent-Le", "ngth: 5\r\nX-A: b\r\n\r\nhe", "llo"],
    "vnet",
  );
  const runner = createProxyRunner({ connect: guest.connect });
  const raw = await runner.handleRaw!({
    method: "GET",
    url: "http://x.localhost/",
    headers: [],
    body: null,
  });
  assert.ok(!(raw instanceof Response));
  assert.deepEqual(raw.headers, [["x-a", "b"]]);
  assert.equal(dec.decode(raw.body!), "hello");
});

Deno.test("proxy runner errors a streamed body when the virtual connection closes mid-body", async () => {
  let calls = 0;
  const guest = fakeGuest(
    () =>
      ++calls === 1
        ? ["HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nshort", "close"] as never
        : "close",
    "vnet",
  );
  const runner = createProxyRunner({ connect: guest.connect });
  const res = await runner.handle(new Request("http://x.localhost/"));
  await assert.rejects(res.text(), /999995 body bytes still to send/);
  // The broken connection is dropped; the next request opens a new one.
  await assert.rejects(runner.handle(new Request("http://x.localhost/")));
  assert.equal(guest.count(), 2);
});

Deno.test("proxy runner drops an idle connection the guest closed and opens a fresh one", async () => {
  const guest = fakeGuest(() => ["HTTP/1.1 204 No Content\r\n\r\n", "close"] as never, "vnet");
  const runner = createProxyRunner({ connect: guest.connect });
  assert.equal((await runner.handle(new Request("http://x.localhost/"))).status, 204);
  await new Promise((resolve) => setTimeout(resolve, 5)); // the guest closes meanwhile
  assert.equal((await runner.handle(new Request("http://x.localhost/"))).status, 204);
  assert.equal(guest.count(), 2);
});

Deno.test("handleWire() hands the exact bytes to the guest and answers through its callback", async () => {
  const seen: string[] = [];
  const guest = fakeGuest((raw) => {
    seen.push(raw);
    if (raw.startsWith("GET /bad")) return ["HTTP/9 nope\r\n\r\n"];
    if (raw.startsWith("GET /chunked")) {
      return ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"];
    }
    return ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"];
  }, "vnet");
  const runner = createProxyRunner({ connect: guest.connect, maxConnections: 2 });
  const send = (head: string) =>
    new Promise<WireResult>((resolve) => runner.handleWire!("GET", enc.encode(head), resolve));
  const plain = await send("GET /a HTTP/1.1\r\nhost: x\r\n\r\n");
  assert.ok(!(plain instanceof Response) && !(plain instanceof Error));
  assert.equal(dec.decode(plain.body!), "hi");
  assert.equal(seen[0], "GET /a HTTP/1.1\r\nhost: x\r\n\r\n");
  const streamed = await send("GET /chunked HTTP/1.1\r\nhost: x\r\n\r\n");
  assert.ok(streamed instanceof Response);
  assert.equal(await streamed.text(), "ok");
  const failed = await send("GET /bad HTTP/1.1\r\nhost: x\r\n\r\n");
  assert.ok(failed instanceof Error);
  assert.equal((failed as Error & { status: number }).status, 502);
  // The connection the streamed body used is back in service.
  const again = await send("GET /again HTTP/1.1\r\nhost: x\r\n\r\n");
  assert.ok(!(again instanceof Error));
  assert.equal(guest.count(), 2);
});

Deno.test("proxy runner fails a request whose connect throws, and serves the next", async () => {
  let attempts = 0;
  const guest = fakeGuest(() => ["HTTP/1.1 204 No Content\r\n\r\n"], "vnet");
  const runner = createProxyRunner({
    connect: () => {
      if (++attempts === 1) throw new Error("ECONNREFUSED: nothing listens");
      return guest.connect();
    },
  });
  const first = await new Promise<WireResult>((resolve) =>
    runner.handleWire!("GET", enc.encode("GET / HTTP/1.1\r\n\r\n"), resolve)
  );
  assert.ok(first instanceof Error);
  assert.match(first.message, /ECONNREFUSED/);
  assert.equal((await runner.handle(new Request("http://x.localhost/"))).status, 204);
});
