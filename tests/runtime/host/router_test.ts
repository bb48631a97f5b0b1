import assert from "node:assert/strict";
import { Router } from "../../../runtime/host/mod.ts";

Deno.test("Router matches <name>.localhost with any port and case", () => {
  const r = new Router([{ name: "hello" }]);
  assert.equal(r.match("hello.localhost"), "hello");
  assert.equal(r.match("HELLO.LOCALHOST:8000"), "hello");
  assert.equal(r.match("hello.localhost."), "hello");
  assert.equal(r.match("other.localhost"), undefined);
  assert.equal(r.match(null), undefined);
});

Deno.test("Router matches exact domains and the most specific wildcard", () => {
  const r = new Router([
    { name: "a", domains: ["a.example.com", "*.example.com"] },
    { name: "b", domains: ["*.b.example.com"] },
  ]);
  assert.equal(r.match("a.example.com"), "a");
  assert.equal(r.match("x.example.com"), "a");
  assert.equal(r.match("x.b.example.com"), "b");
  assert.equal(r.match("example.com"), undefined);
});

Deno.test("Router falls back to the default app and reports clashes", () => {
  const r = new Router([{ name: "a", domains: ["shared.test"] }], "a");
  assert.deepEqual(r.add({ name: "b", domains: ["shared.test"] }), ["shared.test"]);
  assert.equal(r.match("shared.test"), "a");
  assert.equal(r.match("[::1]:8000"), "a");
  assert.equal(r.match("unknown"), "a");
});
