import assert from "node:assert/strict";
import { ByteQueue } from "../../../runtime/vnet/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("ByteQueue.readInto() spans chunks and keeps the rest", () => {
  const q = new ByteQueue();
  q.push(enc("hel"));
  q.push(enc("lo "));
  q.push(enc("world"));
  const out = new Uint8Array(5);
  assert.equal(q.readInto(out), 5);
  assert.equal(dec(out), "hello");
  assert.equal(q.size, 6);
  const rest = new Uint8Array(10);
  assert.equal(q.readInto(rest), 6);
  assert.equal(dec(rest.subarray(0, 6)), " world");
  assert.equal(q.size, 0);
});

Deno.test("ByteQueue.readInto() with peek leaves the bytes", () => {
  const q = new ByteQueue();
  q.push(enc("abc"));
  const out = new Uint8Array(2);
  assert.equal(q.readInto(out, true), 2);
  assert.equal(q.size, 3);
  assert.equal(q.readInto(out), 2);
  assert.equal(dec(out), "ab");
});

Deno.test("ByteQueue.shift() returns the pushed chunk itself", () => {
  const q = new ByteQueue();
  const chunk = enc("zero-copy");
  q.push(chunk);
  assert.equal(q.shift(), chunk);
  assert.equal(q.shift(), null);
});

Deno.test("ByteQueue.shift() with max splits a chunk", () => {
  const q = new ByteQueue();
  q.push(enc("abcdef"));
  assert.equal(dec(q.shift(4)!), "abcd");
  assert.equal(dec(q.shift()!), "ef");
  assert.equal(q.size, 0);
});

Deno.test("ByteQueue ignores empty chunks", () => {
  const q = new ByteQueue();
  q.push(new Uint8Array(0));
  assert.equal(q.size, 0);
  assert.equal(q.shift(), null);
});
