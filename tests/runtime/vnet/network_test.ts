import assert from "node:assert/strict";
import { type ListenerInfo, VirtualNetwork, VnetError } from "../../../runtime/vnet/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const any = (port: number) => ({ family: "ipv4" as const, ip: "0.0.0.0", port });

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof VnetError) return err.code;
    throw err;
  }
  return "no error";
}

Deno.test("VirtualNetwork.connect() reaches a listener and data flows both ways", async () => {
  const net = new VirtualNetwork();
  const listener = net.listen(net.bind(any(8080)), 4);
  const client = net.connect(8080);
  const server = listener.accept()!;
  assert.ok(server);
  client.write(enc("ping"));
  const buf = new Uint8Array(16);
  assert.equal(server.read(buf), 4);
  assert.equal(dec(buf.subarray(0, 4)), "ping");
  server.write(enc("pong"));
  assert.equal(dec((await client.readAsync())!), "pong");
  assert.equal(server.remoteAddress.port, client.localAddress.port);
  assert.equal(server.localAddress.port, 8080);
});

Deno.test("VirtualNetwork.bind() refuses a port in use and foreign addresses", () => {
  const net = new VirtualNetwork();
  const b = net.bind(any(80));
  assert.equal(code(() => net.bind(any(80))), "EADDRINUSE");
  assert.equal(code(() => net.bind({ family: "ipv4", ip: "10.0.0.1", port: 81 })), "EADDRNOTAVAIL");
  assert.equal(code(() => net.bind(any(70000))), "EINVAL");
  b.release();
  net.bind(any(80));
});

Deno.test("VirtualNetwork.bind() with port 0 picks distinct ephemeral ports", () => {
  const net = new VirtualNetwork({ ephemeralPorts: [50000, 50001] });
  const a = net.bind(any(0));
  const b = net.bind(any(0));
  assert.notEqual(a.address.port, b.address.port);
  assert.equal(code(() => net.bind(any(0))), "EADDRINUSE");
});

Deno.test("VirtualNetwork.connect() without a listener is ECONNREFUSED", () => {
  const net = new VirtualNetwork();
  assert.equal(code(() => net.connect(9)), "ECONNREFUSED");
  net.bind(any(9));
  assert.equal(code(() => net.connect(9)), "ECONNREFUSED");
});

Deno.test("VirtualNetwork.connectTo() refuses non-loopback targets", () => {
  const net = new VirtualNetwork();
  assert.equal(
    code(() => net.connectTo({ family: "ipv4", ip: "93.184.216.34", port: 80 })),
    "ENETUNREACH",
  );
});

Deno.test("VListener refuses connections past its backlog", () => {
  const net = new VirtualNetwork();
  const l = net.listen(net.bind(any(1000)), 1);
  net.connect(1000);
  assert.equal(code(() => net.connect(1000)), "ECONNREFUSED");
  l.accept();
  net.connect(1000);
});

Deno.test("VirtualNetwork announces listeners and lists them as plain data", async () => {
  const net = new VirtualNetwork();
  const seen: ListenerInfo[] = [];
  net.onListen((info) => seen.push(info));
  const first = net.firstListen();
  net.listen(net.bind(any(3000)), 10);
  net.listen(net.bind({ family: "ipv6", ip: "::", port: 2000 }), 5);
  assert.equal((await first).address.port, 3000);
  assert.equal(seen.length, 2);
  assert.deepEqual(net.listeners(), [
    { address: { family: "ipv6", ip: "::", port: 2000 }, backlog: 5 },
    { address: { family: "ipv4", ip: "0.0.0.0", port: 3000 }, backlog: 10 },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(net.listeners())), net.listeners());
});

Deno.test("VListener.close() frees the port and refuses new connections", () => {
  const net = new VirtualNetwork();
  const l = net.listen(net.bind(any(4000)));
  l.close();
  assert.equal(code(() => net.connect(4000)), "ECONNREFUSED");
  assert.deepEqual(net.listeners(), []);
  net.bind(any(4000));
});

Deno.test("VirtualNetwork.resolve() knows localhost, the app's names and numbers only", () => {
  const net = new VirtualNetwork({ hostnames: ["myapp"] });
  assert.deepEqual(net.resolve("localhost"), ["127.0.0.1", "::1"]);
  assert.deepEqual(net.resolve("MyApp"), ["127.0.0.1", "::1"]);
  assert.deepEqual(net.resolve("10.1.2.3"), ["10.1.2.3"]);
  assert.deepEqual(net.resolve("example.com"), []);
});

Deno.test("Closing a connection frees its ephemeral port", () => {
  const net = new VirtualNetwork({ ephemeralPorts: [60000, 60000] });
  const l = net.listen(net.bind(any(1)));
  const c = net.connect(1);
  assert.equal(code(() => net.connect(1)), "EADDRINUSE");
  c.close();
  l.accept()!.close();
  net.connect(1);
});
