import assert from "node:assert/strict";
import { listenTcp, parseHostPort, VnetError } from "../../../runtime/vnet/mod.ts";

Deno.test("parseHostPort() parses IPv4, IPv6 and names", () => {
  assert.deepEqual(parseHostPort("127.0.0.1:8080"), { hostname: "127.0.0.1", port: 8080 });
  assert.deepEqual(parseHostPort("[::1]:80"), { hostname: "::1", port: 80 });
  assert.deepEqual(parseHostPort("localhost:0"), { hostname: "localhost", port: 0 });
  assert.throws(() => parseHostPort("8080"), VnetError);
  assert.throws(() => parseHostPort("a:99999"), VnetError);
});

Deno.test("listenTcp() bridges a real connection to a VStream", async () => {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = listener.address.port;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("hello"));
    while (listener.pending === 0) await listener.changed();
    const guest = listener.accept()!;
    const got = await guest.readAsync();
    assert.equal(new TextDecoder().decode(got!), "hello");
    guest.write(new TextEncoder().encode("world"));
    guest.shutdown({ write: true });
    const reply = new Uint8Array(16);
    const n = await conn.read(reply);
    assert.equal(new TextDecoder().decode(reply.subarray(0, n!)), "world");
    assert.equal(await conn.read(reply), null);
    conn.close();
    guest.close();
  } finally {
    listener.close();
  }
});

Deno.test("listenTcp() reports a port in use as EADDRINUSE", () => {
  const first = listenTcp({ hostname: "127.0.0.1", port: 0 });
  try {
    assert.throws(
      () => listenTcp({ hostname: "127.0.0.1", port: first.address.port }),
      (err: unknown) => err instanceof VnetError && err.code === "EADDRINUSE",
    );
  } finally {
    first.close();
  }
});
