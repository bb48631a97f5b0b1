import assert from "node:assert/strict";
import {
  connectionFromStreams,
  createProxyRunner,
  type GuestConnection,
  serializeRequestHead,
} from "../../../runtime/runners/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A scripted guest: `respond` gets each raw request head+body and returns the bytes to write. */
function fakeGuest(
  respond: (raw: string, conn: number) => (string | Uint8Array)[] | "close",
) {
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
        pending += dec.decode(value);
        // Requests in these tests are complete once Content-Length bytes follow the head.
        while (true) {
          const end = pending.indexOf("\r\n\r\n");
          if (end < 0) break;
          const m = /content-length: (\d+)/i.exec(pending.slice(0, end));
          const total = end + 4 + (m ? Number(m[1]) : 0);
          if (pending.length < total) break;
          const raw = pending.slice(0, total);
          pending = pending.slice(total);
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

Deno.test("proxy runner parses a content-length response and reuses the connection", async () => {
  const guest = fakeGuest((raw) => {
    const path = raw.split(" ")[1];
    return [`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\nX-Y: z\r\n\r\n${path}`];
  });
  const runner = createProxyRunner({ connect: guest.connect });
  for (const path of ["/a", "/bb", "/ccc"]) {
    const res = await runner.handle(new Request(`http://x.localhost${path}`));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-y"), "z");
    assert.equal(await res.text(), path);
  }
  assert.equal(guest.count(), 1);
});

Deno.test("proxy runner decodes chunked bodies with extensions and trailers", async () => {
  const guest = fakeGuest(() => [
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    "5;ext=1\r\nhello\r\n",
    "1\r\n \r\n6\r\nworld!\r\n",
    "0\r\nX-Trailer: t\r\n\r\n",
  ]);
  const runner = createProxyRunner({ connect: guest.connect });
  const res = await runner.handle(new Request("http://x.localhost/"));
  assert.equal(await res.text(), "hello world!");
  const again = await runner.handle(new Request("http://x.localhost/"));
  assert.equal(await again.text(), "hello world!");
  assert.equal(guest.count(), 1);
});

Deno.test("proxy runner sends and receives 10 MB bodies", async () => {
  const size = 10 * 1024 * 1024;
  const guest = fakeGuest((raw) => {
    const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
    return [`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`, body];
  });
  const runner = createProxyRunner({ connect: guest.connect });
  const payload = "x".repeat(size);
  const res = await runner.handle(
    new Request("http://x.localhost/", { method: "POST", body: payload }),
  );
  const text = await res.text();
  assert.equal(text.length, size);
});

Deno.test("proxy runner reads close-delimited bodies and opens a new connection after", async () => {
  const guest = fakeGuest(() => ["HTTP/1.0 200 OK\r\n\r\nbye", "close"] as never);
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

Deno.test("proxy runner rejects a malformed status line with a 502 error", async () => {
  const guest = fakeGuest(() => ["NOT HTTP\r\n\r\n"]);
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

Deno.test("proxy runner reports a guest that closes before the response head", async () => {
  const guest = fakeGuest(() => "close");
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

Deno.test("proxy runner retries once when a kept-alive connection went stale", async () => {
  let served = 0;
  const guest = fakeGuest((_raw, conn) => {
    served++;
    if (conn === 1 && served > 1) return "close";
    return ["HTTP/1.1 204 No Content\r\n\r\n"];
  });
  const runner = createProxyRunner({ connect: guest.connect });
  assert.equal((await runner.handle(new Request("http://x.localhost/"))).status, 204);
  assert.equal((await runner.handle(new Request("http://x.localhost/"))).status, 204);
  assert.equal(guest.count(), 2);
});

Deno.test("proxy runner handles HEAD responses with a Content-Length and no body", async () => {
  const guest = fakeGuest(() => ["HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"]);
  const runner = createProxyRunner({ connect: guest.connect });
  const res = await runner.handle(new Request("http://x.localhost/", { method: "HEAD" }));
  assert.equal(res.status, 200);
  const next = await runner.handle(new Request("http://x.localhost/", { method: "HEAD" }));
  assert.equal(next.status, 200);
  assert.equal(guest.count(), 1);
});

Deno.test("proxy runner skips 100 Continue interim responses", async () => {
  const guest = fakeGuest(
    () => ["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
  );
  const runner = createProxyRunner({ connect: guest.connect });
  assert.equal(await (await runner.handle(new Request("http://x.localhost/"))).text(), "ok");
});

Deno.test("proxy runner rejects a small response cut short before the client sees it", async () => {
  const guest = fakeGuest(() =>
    ["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", "close"] as never
  );
  const runner = createProxyRunner({ connect: guest.connect });
  await assert.rejects(
    runner.handle(new Request("http://x.localhost/")),
    /95 body bytes still to send/,
  );
});

Deno.test("proxy runner answers plain data from handleRaw for small bodies", async () => {
  const guest = fakeGuest(() => ["HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok"]);
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

Deno.test("proxy runner rejects a malformed chunk size", async () => {
  const guest = fakeGuest(() => ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]);
  const runner = createProxyRunner({ connect: guest.connect });
  const res = await runner.handle(new Request("http://x.localhost/"));
  await assert.rejects(res.text(), /malformed chunk size/);
});

Deno.test("proxy runner keeps one request in flight by default", async () => {
  const guest = fakeGuest((raw) => {
    const path = raw.split(" ")[1];
    return [`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`];
  });
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

Deno.test("proxy runner frees the slot of a failed connection for the next request", async () => {
  let calls = 0;
  const guest = fakeGuest(() => {
    calls++;
    return calls === 1 ? "close" : ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"];
  });
  const runner = createProxyRunner({ connect: guest.connect, maxConnections: 1 });
  await assert.rejects(
    runner.handle(new Request("http://x.localhost/1")),
    /in the middle of a response status line/,
  );
  const res = await runner.handle(new Request("http://x.localhost/2"));
  assert.equal(await res.text(), "ok");
});
