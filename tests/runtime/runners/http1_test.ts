import assert from "node:assert/strict";
import {
  encodeHead,
  framingOf,
  latin1Decode,
  parseResponseHead,
  ProxyProtocolError,
  requestHead,
} from "../../../runtime/runners/http1.ts";

const enc = new TextEncoder();

Deno.test("requestHead() writes the target without the fragment and adds host and content-length", () => {
  const head = requestHead(
    "POST",
    "http://a.localhost:8000/p/q?x=1#frag",
    [["x-a", "1"], ["connection", "close"], ["content-length", "9"], ["te", "trailers"]],
    5,
  );
  assert.equal(
    head,
    "POST /p/q?x=1 HTTP/1.1\r\nx-a: 1\r\nhost: a.localhost:8000\r\ncontent-length: 5\r\n" +
      "connection: keep-alive\r\n\r\n",
  );
});

Deno.test("requestHead() keeps the client's host and sends no content-length for a bodiless GET", () => {
  const head = requestHead("GET", "http://b.localhost", [["host", "example.com"]], 0);
  assert.equal(head, "GET / HTTP/1.1\r\nhost: example.com\r\nconnection: keep-alive\r\n\r\n");
  assert.match(requestHead("DELETE", "http://b.localhost/x", [], 0), /content-length: 0\r\n/);
});

Deno.test("encodeHead() writes ASCII byte for byte and anything else as UTF-8", () => {
  assert.deepEqual([...encodeHead("GET\r\n")], [71, 69, 84, 13, 10]);
  assert.deepEqual([...encodeHead("é")], [0xc3, 0xa9]);
});

Deno.test("parseResponseHead() parses status, headers and framing, and says where the body starts", () => {
  const bytes = enc.encode(
    "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Multi:  a b \t\r\n" +
      "Content-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
  );
  const head = parseResponseHead(bytes, 65536)!;
  assert.equal(head.status, 201);
  assert.equal(head.statusText, "Created");
  assert.deepEqual(head.headers, [["content-type", "text/plain"], ["x-multi", "a b"]]);
  assert.equal(head.contentLength, "2");
  assert.equal(head.keepAlive, true);
  assert.equal(new TextDecoder().decode(bytes.subarray(head.size)), "ok");
});

Deno.test("parseResponseHead() returns null until the blank line arrives", () => {
  assert.equal(parseResponseHead(enc.encode("HTTP/1.1 200 OK\r\nA: b\r\n"), 65536), null);
  assert.equal(parseResponseHead(enc.encode("HTTP/1."), 65536), null);
  assert.equal(parseResponseHead(new Uint8Array(0), 65536), null);
});

Deno.test("parseResponseHead() skips stray blank lines and reads HTTP/1.0 keep-alive rules", () => {
  const head = parseResponseHead(enc.encode("\r\n\r\nHTTP/1.0 204\r\n\r\n"), 65536)!;
  assert.equal(head.status, 204);
  assert.equal(head.statusText, "");
  assert.equal(head.keepAlive, false);
  assert.equal(head.size, 4 + 16);
  const close = parseResponseHead(enc.encode("HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n"), 99)!;
  assert.equal(close.keepAlive, false);
});

Deno.test("parseResponseHead() rejects malformed heads with a ProxyProtocolError (502)", () => {
  const bad = (text: string, pattern: RegExp, max = 65536) =>
    assert.throws(() => parseResponseHead(enc.encode(text), max), (err: Error) => {
      assert.ok(err instanceof ProxyProtocolError);
      assert.equal(err.status, 502);
      assert.match(err.message, pattern);
      return true;
    });
  bad("NOT HTTP\r\n\r\n", /malformed status line "NOT HTTP"/);
  bad("HTTP/2 200 OK\r\n", /malformed status line/); // before the head is complete
  bad("HTTP/1.1 099 Low\r\n\r\n", /below 100/);
  bad("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", /malformed header line "No colon here"/);
  bad("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", /malformed header line/);
  bad("HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n", /invalid value for header x/);
  bad(
    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    /conflicting Content-Length/,
  );
  bad("HTTP/1.1 200 OK\r\nX: " + "a".repeat(100), /longer than 64 bytes/, 64);
});

Deno.test("framingOf() follows RFC 9112 section 6.3", () => {
  assert.deepEqual(framingOf("HEAD", 200, undefined, "42"), { kind: "none" });
  assert.deepEqual(framingOf("GET", 304, undefined, "42"), { kind: "none" });
  assert.deepEqual(framingOf("GET", 200, "gzip, chunked", "42"), { kind: "chunked" });
  assert.deepEqual(framingOf("GET", 200, "gzip", undefined), { kind: "close" });
  assert.deepEqual(framingOf("GET", 200, undefined, "42"), { kind: "length", length: 42 });
  assert.deepEqual(framingOf("GET", 200, undefined, undefined), { kind: "close" });
  assert.throws(() => framingOf("GET", 200, undefined, "-1"), /invalid Content-Length "-1"/);
});

Deno.test("latin1Decode() reads every byte as one character, ASCII or not", () => {
  assert.equal(latin1Decode(enc.encode("GET / HTTP/1.1")), "GET / HTTP/1.1");
  const all = new Uint8Array(256).map((_, i) => i);
  const text = latin1Decode(all);
  assert.equal(text.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(text.charCodeAt(i), i);
  const big = new Uint8Array(10_000).fill(0x80);
  assert.equal(latin1Decode(big), "\x80".repeat(10_000));
});
