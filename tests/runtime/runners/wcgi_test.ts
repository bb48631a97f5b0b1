import assert from "node:assert/strict";
import {
  cgiEnvironment,
  CgiResponseError,
  createWcgiRunner,
  parseCgiResponse,
} from "../../../runtime/runners/mod.ts";

const enc = new TextEncoder();

Deno.test("cgiEnvironment() builds RFC 3875 meta-variables", () => {
  const req = new Request("http://app.localhost:8123/a%20b/c?x=1&y=2", {
    method: "POST",
    headers: { "content-type": "text/plain", "x-custom-thing": "v", proxy: "evil" },
  });
  const env = cgiEnvironment(req, 7, { remoteAddr: "127.0.0.9" });
  assert.equal(env.GATEWAY_INTERFACE, "CGI/1.1");
  assert.equal(env.REQUEST_METHOD, "POST");
  assert.equal(env.PATH_INFO, "/a b/c");
  assert.equal(env.QUERY_STRING, "x=1&y=2");
  assert.equal(env.REQUEST_URI, "/a%20b/c?x=1&y=2");
  assert.equal(env.SERVER_NAME, "app.localhost");
  assert.equal(env.SERVER_PORT, "8123");
  assert.equal(env.CONTENT_LENGTH, "7");
  assert.equal(env.CONTENT_TYPE, "text/plain");
  assert.equal(env.HTTP_X_CUSTOM_THING, "v");
  assert.equal(env.REMOTE_ADDR, "127.0.0.9");
  assert.equal(env.HTTP_PROXY, undefined);
  assert.equal(env.HTTP_CONTENT_TYPE, undefined);
});

Deno.test("parseCgiResponse() reads Status, headers and body with LF or CRLF", async () => {
  const res = parseCgiResponse(
    enc.encode("Status: 404 Nope\r\nContent-Type: text/x\r\n\r\nbody\n"),
  );
  assert.equal(res.status, 404);
  assert.equal(res.statusText, "Nope");
  assert.equal(res.headers.get("content-type"), "text/x");
  assert.equal(await res.text(), "body\n");
  const lf = parseCgiResponse(enc.encode("Content-Type: a/b\n\nx"));
  assert.equal(lf.status, 200);
  assert.equal(await lf.text(), "x");
});

Deno.test("parseCgiResponse() turns a Location without Status into a 302", () => {
  const res = parseCgiResponse(enc.encode("Location: http://e.localhost/\n\n"));
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "http://e.localhost/");
});

Deno.test("parseCgiResponse() rejects output without a header block", () => {
  assert.throws(() => parseCgiResponse(enc.encode("just text")), CgiResponseError);
  assert.throws(() => parseCgiResponse(new Uint8Array(0)), /wrote nothing/);
  assert.throws(() => parseCgiResponse(enc.encode("\n\nbody")), CgiResponseError);
  assert.throws(() => parseCgiResponse(enc.encode("bad header\n\n")), /malformed header/);
  assert.throws(() => parseCgiResponse(enc.encode("Status: abc\n\n")), /invalid Status/);
});

Deno.test("wcgi runner passes env and stdin to a fresh execution per request", async () => {
  const seen: { env: Record<string, string>; stdin: string }[] = [];
  const runner = createWcgiRunner({
    env: { APP_VAR: "1" },
    execute: (run) => {
      seen.push({ env: run.env, stdin: new TextDecoder().decode(run.stdin) });
      return Promise.resolve({
        stdout: enc.encode(
          `Content-Type: text/plain\n\n${run.env.REQUEST_METHOD} ${run.stdin.length}`,
        ),
        exitCode: 0,
      });
    },
  });
  const res = await runner.handle(
    new Request("http://a.localhost/x", { method: "PUT", body: "hello" }),
  );
  assert.equal(await res.text(), "PUT 5");
  assert.equal(seen[0].env.APP_VAR, "1");
  assert.equal(seen[0].stdin, "hello");
  await runner.handle(new Request("http://a.localhost/y"));
  assert.equal(seen.length, 2);
});

Deno.test("wcgi runner reports a program that exits without output", async () => {
  const runner = createWcgiRunner({
    execute: () => Promise.resolve({ stdout: new Uint8Array(0), exitCode: 3 }),
  });
  await assert.rejects(runner.handle(new Request("http://a.localhost/")), /exited with code 3/);
});
