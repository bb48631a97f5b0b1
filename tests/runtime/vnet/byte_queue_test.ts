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

Deno.test("ByteQueue keeps byte order for any mix of pushes, reads, peeks and shifts", async () => {
  const fc = (await import("fast-check")).default;
  const op = fc.oneof(
    fc.record({ kind: fc.constant("push" as const), bytes: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({ kind: fc.constant("read" as const), n: fc.nat(50), peek: fc.boolean() }),
    fc.record({ kind: fc.constant("shift" as const), n: fc.integer({ min: 1, max: 50 }) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
    const q = new ByteQueue();
    let model: number[] = [];
    for (const o of ops) {
      if (o.kind === "push") {
        q.push(o.bytes.slice());
        model.push(...o.bytes);
      } else if (o.kind === "read") {
        const out = new Uint8Array(o.n);
        const n = q.readInto(out, o.peek);
        if ([...out.subarray(0, n)].join() !== model.slice(0, n).join()) return false;
        if (n !== Math.min(o.n, model.length)) return false;
        if (!o.peek) model = model.slice(n);
      } else {
        const chunk = q.shift(o.n);
        if (chunk === null) {
          if (model.length !== 0) return false;
        } else {
          if ([...chunk].join() !== model.slice(0, chunk.byteLength).join()) return false;
          if (chunk.byteLength === 0 || chunk.byteLength > o.n) return false;
          model = model.slice(chunk.byteLength);
        }
      }
      if (q.size !== model.length) return false;
    }
    return true;
  }));
});
