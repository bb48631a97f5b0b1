import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import {
  decodeRequestHead,
  decodeResponseHead,
  encodeRequestHead,
  encodeResponseHead,
  Ring,
} from "../../../runtime/instance/ring.ts";

function drainAll(ring: Ring): [unknown, Uint8Array | null][] {
  const out: [unknown, Uint8Array | null][] = [];
  ring.drain((head, body) => out.push([head, body]));
  return out;
}

Deno.test("Ring carries heads and bodies in order", () => {
  const sab = Ring.allocate(1024);
  const producer = new Ring(sab);
  const consumer = new Ring(sab);
  assert.ok(producer.tryWrite({ n: 1 }, new Uint8Array([1, 2, 3])));
  assert.ok(producer.tryWrite({ n: 2 }));
  assert.deepEqual(drainAll(consumer), [[{ n: 1 }, new Uint8Array([1, 2, 3])], [{ n: 2 }, null]]);
  assert.deepEqual(drainAll(consumer), []);
});

Deno.test("Ring wraps around and refuses what does not fit", () => {
  const sab = Ring.allocate(256);
  const producer = new Ring(sab);
  const consumer = new Ring(sab);
  assert.equal(producer.tryWrite({}, new Uint8Array(200)), false, "over half the capacity");
  for (let round = 0; round < 50; round++) {
    const body = new Uint8Array(50 + (round % 30)).fill(round);
    assert.ok(producer.tryWrite({ round }, body));
    assert.ok(producer.tryWrite({ round: -round - 1 }));
    const got = drainAll(consumer);
    assert.deepEqual(got, [[{ round }, body], [{ round: -round - 1 }, null]]);
  }
  // Fill it: later writes are refused until the consumer drains.
  let written = 0;
  while (producer.tryWrite({ written }, new Uint8Array(40))) written++;
  assert.ok(written >= 2);
  assert.equal(drainAll(consumer).length, written);
  assert.ok(producer.tryWrite({ again: true }));
});

Deno.test("Ring wakes a waiting consumer and stops at close", async () => {
  const sab = Ring.allocate(1024);
  const producer = new Ring(sab);
  const consumer = new Ring(sab);
  const seen: unknown[] = [];
  const consuming = consumer.consume((head) => seen.push(head));
  await new Promise((r) => setTimeout(r, 10));
  producer.tryWrite({ hello: 1 });
  while (seen.length === 0) await new Promise((r) => setTimeout(r, 1));
  assert.deepEqual(seen, [{ hello: 1 }]);
  // A pending Atomics.waitAsync does not keep Deno's event loop alive by itself (a Worker's
  // message listener or Deno.serve does in the host); a timer does here.
  const keepAlive = setInterval(() => {}, 10);
  producer.close();
  await consuming;
  clearInterval(keepAlive);
});

Deno.test("Ring.allocate() rejects sizes that are not powers of two", () => {
  assert.throws(() => Ring.allocate(1000), /power of two/);
});

Deno.test("Ring carries ASCII and non-ASCII heads alike", () => {
  const sab = Ring.allocate(1024);
  const producer = new Ring(sab);
  const consumer = new Ring(sab);
  const heads = [{ a: "plain" }, { b: "café ☕", n: 1 }, { c: "x".repeat(300) }];
  for (const h of heads) assert.ok(producer.tryWrite(h, new Uint8Array([7])));
  const got: unknown[] = [];
  consumer.drain((head, body) => {
    got.push(head);
    assert.deepEqual([...body!], [7]);
  });
  assert.deepEqual(got, heads);
});

Deno.test("Ring carries caller-encoded text heads as strings, beside JSON heads", () => {
  const sab = Ring.allocate(1024);
  const producer = new Ring(sab);
  const consumer = new Ring(sab);
  assert.ok(producer.tryWriteText("a\0b", new Uint8Array([7])));
  assert.ok(producer.tryWrite({ a: "b" }));
  assert.ok(producer.tryWriteText("é\0ü"));
  assert.deepEqual(drainAll(consumer), [
    ["a\0b", new Uint8Array([7])],
    [{ a: "b" }, null],
    ["é\0ü", null],
  ]);
});

Deno.test("request and response text heads round-trip, and refuse fields holding NUL", () => {
  const headers: [string, string][] = [["host", "a.localhost"], ["x-empty", ""], ["accept", "é"]];
  const req = encodeRequestHead(7, "POST", "http://a.localhost/p?q=1", headers);
  assert.ok(req !== null);
  assert.deepEqual(decodeRequestHead(req), {
    id: 7,
    method: "POST",
    url: "http://a.localhost/p?q=1",
    headers,
  });
  assert.deepEqual(decodeRequestHead(encodeRequestHead(1, "GET", "http://a/", [])!).headers, []);
  assert.equal(encodeRequestHead(1, "GET", "http://a/", [["x", "a\0b"]]), null);

  const res = { id: 9, status: 404, statusText: "Not Found", headers, exec: 0.123456789 };
  const text = encodeResponseHead(res);
  assert.ok(text !== null);
  assert.deepEqual(decodeResponseHead(text), res);
  assert.deepEqual(
    decodeResponseHead(encodeResponseHead({ ...res, statusText: "" })!).statusText,
    "",
  );
  const withText = { ...res, text: "plain body\r\n" };
  assert.deepEqual(decodeResponseHead(encodeResponseHead(withText)!), withText);
  assert.equal(decodeResponseHead(encodeResponseHead({ ...res, text: "" })!).text, "");
  assert.equal(encodeResponseHead({ ...res, text: "nul\0" }), null);
  assert.equal(encodeResponseHead({ ...res, statusText: "bad\0" }), null);
  assert.equal(encodeResponseHead({ ...res, headers: [["x\0", "y"]] }), null);
});

Deno.test("Ring carries tagged byte messages undecoded, beside text heads, across the wrap", () => {
  const sab = Ring.allocate(256);
  const producer = new Ring(sab);
  const consumer = new Ring(sab);
  for (let round = 0; round < 40; round++) {
    const head = `GET /${round} HTTP/1.1\r\n\r\n`;
    const body = new Uint8Array(round % 7).fill(round);
    assert.ok(producer.tryWriteBytes(0xfffffff0 + (round % 16), head, body));
    assert.ok(producer.tryWriteText(`t${round}`));
    const got = drainAll(consumer);
    assert.equal(got.length, 2);
    assert.equal(got[0][0], (0xfffffff0 + (round % 16)) >>> 0);
    const bytes = got[0][1]!;
    assert.equal(new TextDecoder().decode(bytes.subarray(0, head.length)), head);
    assert.deepEqual(bytes.subarray(head.length), body);
    assert.deepEqual(got[1], [`t${round}`, null]);
  }
  assert.equal(producer.tryWriteBytes(1, "x".repeat(200), null), false, "over half the capacity");
  // Non-ASCII text goes as UTF-8.
  assert.ok(producer.tryWriteBytes(2, "é", null));
  assert.deepEqual([...drainAll(consumer)[0][1]!], [0xc3, 0xa9]);
});

Deno.test("Ring.readable() with a poll finds a message without parking, then parks", async () => {
  const sab = Ring.allocate(1024);
  const producer = new Ring(sab);
  const consumer = new Ring(sab);
  // A timer keeps the event loop alive while the consumer is parked, as the host's server does.
  const keepAlive = setInterval(() => {}, 10);
  let polls = 0;
  const ready = consumer.readable(() => ++polls > 0);
  setImmediate(() => producer.tryWriteText("late"));
  await ready;
  assert.ok(polls > 0);
  assert.deepEqual(drainAll(consumer), [["late", null]]);
  // A poll that says no parks at once; a write wakes it.
  let asked = 0;
  const parked = consumer.readable(() => (asked++, false));
  setTimeout(() => producer.tryWriteText("woken"), 5);
  await parked;
  clearInterval(keepAlive);
  assert.equal(asked, 1);
  assert.deepEqual(drainAll(consumer), [["woken", null]]);
});
