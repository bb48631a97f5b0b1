/**
 * Runs examples/wcgi-hello/wcgi-hello.wasm as a CGI program under node:wasi (Deno's built-in
 * preview1), independently of Thaw's runtime: request in the environment, body on stdin.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { WASI } from "node:wasi";

const WASM = new URL("../../examples/wcgi-hello/wcgi-hello.wasm", import.meta.url);
const module = await WebAssembly.compile(await Deno.readFile(WASM));

interface CgiResult {
  exit: number;
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

async function cgi(env: Record<string, string>, body = ""): Promise<CgiResult> {
  const dir = await Deno.makeTempDir({ prefix: "wcgi-hello-" });
  try {
    await Deno.writeTextFile(join(dir, "in"), body);
    const stdin = fs.openSync(join(dir, "in"), "r");
    const stdout = fs.openSync(join(dir, "out"), "w");
    const stderr = fs.openSync(join(dir, "err"), "w");
    const wasi = new WASI({
      version: "preview1",
      args: ["wcgi-hello.wasm"],
      env,
      stdin,
      stdout,
      stderr,
      returnOnExit: true,
    });
    const imports = wasi.getImportObject() as WebAssembly.Imports;
    const instance = await WebAssembly.instantiate(module, imports);
    const exit = wasi.start(instance);
    for (const fd of [stdin, stdout, stderr]) fs.closeSync(fd);
    const raw = await Deno.readTextFile(join(dir, "out"));
    const split = raw.indexOf("\r\n\r\n");
    const headers: Record<string, string> = {};
    for (const line of raw.slice(0, Math.max(split, 0)).split("\r\n").filter(Boolean)) {
      const at = line.indexOf(":");
      headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
    }
    return {
      exit,
      status: Number((headers.status ?? "0").split(" ")[0]),
      headers,
      body: split >= 0 ? raw.slice(split + 4) : "",
      raw: raw + (await Deno.readTextFile(join(dir, "err"))),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("wcgi-hello echoes a GET request as a CGI response", async () => {
  const r = await cgi({
    REQUEST_METHOD: "GET",
    PATH_INFO: "/hello/world",
    QUERY_STRING: "a=1&b=2",
    HTTP_HOST: "wcgi-hello.localhost",
    SERVER_PROTOCOL: "HTTP/1.1",
  });
  assert.equal(r.exit, 0);
  assert.equal(r.status, 200);
  assert.equal(r.headers["content-type"], "text/plain; charset=utf-8");
  assert.equal(
    r.body,
    "hello from wcgi-hello\nmethod: GET\npath: /hello/world\nquery: a=1&b=2\ncontent-type: \n" +
      "content-length: 0\nhost: wcgi-hello.localhost\nprotocol: HTTP/1.1\nbody: \n",
  );
});

Deno.test("wcgi-hello reads the body from stdin, up to CONTENT_LENGTH", async () => {
  const post = await cgi({
    REQUEST_METHOD: "POST",
    PATH_INFO: "/form",
    CONTENT_TYPE: "application/x-www-form-urlencoded",
    CONTENT_LENGTH: "11",
  }, "hello=world");
  assert.match(post.body, /method: POST\n/);
  assert.match(post.body, /content-length: 11\nhost: \nprotocol: \nbody: hello=world\n$/);
  const cut = await cgi({ REQUEST_METHOD: "PUT", CONTENT_LENGTH: "5" }, "12345 trailing");
  assert.match(cut.body, /body: 12345\n$/);
  const noLength = await cgi({ REQUEST_METHOD: "POST" }, "until EOF");
  assert.match(noLength.body, /body: until EOF\n$/);
});

Deno.test("wcgi-hello answers /status/NNN with that status", async () => {
  const r = await cgi({ REQUEST_METHOD: "GET", PATH_INFO: "/status/418" });
  assert.equal(r.status, 418);
  assert.equal(r.body, "status 418\n");
  const bad = await cgi({ REQUEST_METHOD: "GET", PATH_INFO: "/status/42" });
  assert.equal(bad.status, 400);
});

Deno.test("wcgi-hello omits the body for HEAD and rejects a bad CONTENT_LENGTH", async () => {
  const head = await cgi({ REQUEST_METHOD: "HEAD", PATH_INFO: "/" });
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
  const bad = await cgi({ REQUEST_METHOD: "POST", CONTENT_LENGTH: "ten" }, "x");
  assert.equal(bad.status, 400);
});

Deno.test("wcgi-hello explains itself when run outside a CGI runner", async () => {
  const r = await cgi({});
  assert.equal(r.exit, 2);
  assert.match(r.raw, /REQUEST_METHOD is not set; run me through a CGI\/WCGI runner/);
});

Deno.test("wcgi-hello imports only wasi_snapshot_preview1", () => {
  const modules = new Set(WebAssembly.Module.imports(module).map((i) => i.module));
  assert.deepEqual([...modules], ["wasi_snapshot_preview1"]);
});
