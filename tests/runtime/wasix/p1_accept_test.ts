/**
 * A plain preview1 server guest blocked in accept(3) must not block Deno's event loop or another
 * guest, and preview1 sock_accept/recv/send/shutdown must work on WASIX socket handles.
 */
import assert from "node:assert/strict";
import { CollectOutput, importObject, Process, RIGHTS_SOCKET } from "../../../runtime/wasi/mod.ts";
import { VirtualNetwork } from "../../../runtime/vnet/mod.ts";
import { SocketHandle, WASIX_MODULE, wasixImports } from "../../../runtime/wasix/mod.ts";
import { guestModule, startGuest } from "./_run.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function startServer(net: VirtualNetwork, port: number, requests: number) {
  const stdout = new CollectOutput();
  const proc = new Process({
    args: ["server"],
    env: { LISTEN_FDS: "1", REQUESTS: String(requests) },
    stdout,
    stderr: stdout,
  });
  const listener = net.listen(net.bind({ family: "ipv4", ip: "127.0.0.1", port }), 8);
  const fd = proc.fds.insert({
    handle: SocketHandle.listening("ipv4", listener),
    rightsBase: RIGHTS_SOCKET,
    rightsInheriting: RIGHTS_SOCKET,
    fdflags: 0,
  });
  assert.equal(fd, 3);
  const imports = importObject(proc, { [WASIX_MODULE]: wasixImports(proc, { net }) });
  const instance = await WebAssembly.instantiate(await guestModule("wasix_p1_accept"), imports);
  return { proc, stdout, done: proc.start(instance) };
}

async function exchange(net: VirtualNetwork, port: number, text: string): Promise<string> {
  const conn = net.connect(port);
  await conn.writeAsync(enc.encode(text));
  let out = "";
  for (let chunk = await conn.readAsync(); chunk !== null; chunk = await conn.readAsync()) {
    out += dec.decode(chunk);
  }
  conn.close();
  return out;
}

Deno.test("a preview1 guest blocked in accept(3) leaves the event loop free", async () => {
  const net = new VirtualNetwork();
  const { done, stdout } = await startServer(net, 7000, 2);
  let finished = false;
  done.then(() => (finished = true));
  // The guest is now suspended in accept; timers still fire.
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(finished, false);
  assert.equal(await exchange(net, 7000, "hello"), "HELLO");
  assert.equal(await exchange(net, 7000, "again"), "AGAIN");
  assert.equal(await done, 0, stdout.text());
  assert.match(stdout.text(), /served 2/);
});

Deno.test("two guests blocked at once are served independently", async () => {
  const net = new VirtualNetwork();
  const a = await startServer(net, 7001, 1);
  const b = await startServer(net, 7002, 1);
  // Serve b first while a stays blocked.
  assert.equal(await exchange(net, 7002, "bee"), "BEE");
  assert.equal(await b.done, 0);
  assert.equal(await exchange(net, 7001, "ant"), "ANT");
  assert.equal(await a.done, 0);
});

Deno.test("a WASIX client guest talks to a server guest over the shared network", async () => {
  const net = new VirtualNetwork();
  const server = await startServer(net, 7100, 1);
  const client = await startGuest("wasix_client", {
    net,
    env: { PORT: "7100", MESSAGE: "guest to guest" },
  });
  const c = await client.done;
  assert.equal(c.code, 0, c.stdout);
  assert.match(c.stdout, /reply: GUEST TO GUEST/);
  assert.equal(await server.done, 0);
});

Deno.test("a client guest gets ECONNREFUSED when nothing listens", async () => {
  const client = await startGuest("wasix_client", { env: { PORT: "7101", MESSAGE: "x" } });
  const c = await client.done;
  assert.equal(c.code, 1);
  assert.match(c.stdout, /connect failed: 14/);
});
