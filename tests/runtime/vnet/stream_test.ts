import assert from "node:assert/strict";
import { createStreamPair, VnetError } from "../../../runtime/vnet/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const A = { family: "ipv4" as const, ip: "127.0.0.1", port: 1 };
const B = { family: "ipv4" as const, ip: "127.0.0.1", port: 2 };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof VnetError) return err.code;
    throw err;
  }
  return "no error";
}

Deno.test("VStream.read() would block with EAGAIN, then reads after a write", () => {
  const [a, b] = createStreamPair(A, B);
  assert.equal(code(() => b.read(new Uint8Array(4))), "EAGAIN");
  assert.ok(!b.readable);
  a.write(enc("hi"));
  assert.ok(b.readable);
  const out = new Uint8Array(4);
  assert.equal(b.read(out), 2);
  assert.equal(dec(out.subarray(0, 2)), "hi");
});

Deno.test("VStream.shutdown(write) gives the peer EOF after the data", () => {
  const [a, b] = createStreamPair(A, B);
  a.write(enc("last"));
  a.shutdown({ write: true });
  assert.equal(code(() => a.write(enc("x"))), "EPIPE");
  const out = new Uint8Array(8);
  assert.equal(b.read(out), 4);
  assert.equal(b.read(out), 0);
  assert.ok(b.eof);
  // The other direction still works.
  b.write(enc("reply"));
  assert.equal(a.read(out), 5);
});

Deno.test("VStream.close() makes the peer's writes fail with EPIPE", () => {
  const [a, b] = createStreamPair(A, B);
  a.close();
  assert.equal(code(() => b.write(enc("x"))), "EPIPE");
  assert.equal(b.read(new Uint8Array(1)), 0);
  assert.ok(b.hangup);
  assert.equal(code(() => a.read(new Uint8Array(1))), "ENOTCONN");
});

Deno.test("VStream.changed() wakes a waiting reader", async () => {
  const [a, b] = createStreamPair(A, B);
  const got = b.readAsync();
  setTimeout(() => a.write(enc("later")), 1);
  assert.equal(dec((await got)!), "later");
});

Deno.test("VStream.writable turns false at the buffer limit and back after reads", async () => {
  const [a, b] = createStreamPair(A, B, { bufferLimit: 8 });
  a.write(new Uint8Array(8));
  assert.ok(!a.writable);
  const waiting = a.writeAsync(enc("more"));
  let done = false;
  waiting.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 1));
  assert.ok(!done);
  b.read(new Uint8Array(8));
  await waiting;
  assert.equal(b.available, 4);
});

Deno.test("VStream Web streams carry bytes and end", async () => {
  const [a, b] = createStreamPair(A, B);
  const writer = a.writableStream().getWriter();
  await writer.write(enc("one "));
  await writer.write(enc("two"));
  await writer.close();
  const text = await new Response(b.readableStream()).text();
  assert.equal(text, "one two");
});

Deno.test("createStreamPair() calls onClosed once both ends close", () => {
  let closed = 0;
  const [a, b] = createStreamPair(A, B, { onClosed: () => closed++ });
  a.close();
  a.close();
  assert.equal(closed, 0);
  b.close();
  assert.equal(closed, 1);
});

Deno.test("VStream.take() reads without waiting or throwing, and watch() sees every change", () => {
  const [a, b] = createStreamPair(A, B);
  let changes = 0;
  a.watch(() => changes++);
  assert.equal(a.take(), undefined, "nothing yet");
  b.write(enc("hi"));
  assert.equal(changes, 1, "the peer's write calls the listener at once");
  assert.equal(dec(a.take()!), "hi");
  b.shutdown({ write: true });
  assert.ok(changes >= 2);
  assert.equal(a.take(), null, "EOF");
  a.watch(null);
  const before = changes;
  a.close();
  assert.equal(changes, before, "no listener after watch(null)");
  assert.equal(a.take(), null);
});
