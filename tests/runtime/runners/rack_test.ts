import assert from "node:assert/strict";
import {
  appHash,
  bootRackInstance,
  createRackRunner,
  decodeRubyJournal,
  encodeRackRequest,
  FrameError,
  GuestAbortedError,
  inspectModule,
  JS_INTEROP_MESSAGE,
  loadRubyProgram,
  MemoryPool,
  prepareRubyModule,
  RACK_BOOT_URL,
  type RackApp,
  readLayout,
  readRackApp,
  restoreRackInstance,
  RUBY_WASM_PATH,
  RubyError,
  RubyJournalError,
  rubyProgramFromModule,
  snapshotRackApp,
} from "../../../runtime/runners/rack.ts";

const BLOG = new URL("../../../examples/ruby-blog", import.meta.url);
const WARMUP = [
  { path: "/" },
  { path: "/posts/hello-thaw" },
  { path: "/api/posts" },
  { path: "/tags/ruby" },
];

const rubyBytes = await Deno.readFile(RUBY_WASM_PATH);
const program = await loadRubyProgram(rubyBytes);
const quiet = { log: () => {} };

function inlineApp(source: string): RackApp {
  return { files: new Map([["app.rb", new TextEncoder().encode(source)]]) };
}

const ECHO = inlineApp(`
require "json"
run ->(env) {
  keys = env.keys.grep(/\\A(HTTP_|CONTENT_|REQUEST_|PATH_|QUERY_|SERVER_|SCRIPT_|rack\\.url)/)
  data = keys.to_h { |k| [k, env[k]] }
  data["body"] = env["rack.input"].read
  data["input_binary"] = env["rack.input"].read.encoding == Encoding::BINARY
  [201, { "content-type" => "application/json", "x-multi" => ["a", "b"] }, [JSON.generate(data)]]
}
`);

let blogSnapshot: Awaited<ReturnType<typeof snapshotRackApp>> | undefined;
async function blog() {
  const app = await readRackApp(BLOG);
  blogSnapshot ??= await snapshotRackApp(program, app, WARMUP, quiet);
  return { app, snap: blogSnapshot };
}

Deno.test("prepareRubyModule() is deterministic and records the layout", async () => {
  const a = await prepareRubyModule(rubyBytes);
  const b = await prepareRubyModule(rubyBytes);
  assert.deepEqual(a, b);
  assert.equal(await prepareRubyModule(a), a, "already-prepared bytes pass through");
  const facts = inspectModule(rubyBytes);
  const layout = readLayout(program.module);
  assert.equal(layout.memoryMinPages, facts.memoryMinPages);
  assert.equal(layout.dataSegments, facts.dataSegments.length);
  // ruby.wasm's 3 mutable globals, and the 2 the runner adds for its entry point.
  assert.equal(layout.globals.length, 5);
  assert.deepEqual(layout.entryGlobals, [layout.globals[3].index, layout.globals[4].index]);
  const imports = WebAssembly.Module.imports(program.module);
  assert.ok(imports.some((i) => i.module === "thaw" && i.kind === "memory"));
  const exports = WebAssembly.Module.exports(program.module).map((e) => e.name);
  assert.ok(exports.includes("thaw_init_data"));
  assert.ok(exports.includes(`thaw_global_${layout.globals[0].index}`));
});

Deno.test("rubyProgramFromModule() refuses a module that was not prepared", async () => {
  const raw = await WebAssembly.compile(rubyBytes);
  assert.throws(() => rubyProgramFromModule(raw), /not prepared for Thaw's Ruby runner/);
});

Deno.test("Rack runner builds the env: method, path, query, HTTP_* headers, rack.input", async () => {
  const runner = createRackRunner(await bootRackInstance(program, ECHO, quiet));
  const res = await runner.handle(
    new Request("http://example.test:8080/a%20b/c?x=1&y=%C3%A9", {
      method: "POST",
      headers: { "content-type": "text/plain", "x-custom-thing": "yes", "accept": "*/*" },
      body: "hello\u0000bytes",
    }),
  );
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-multi"), "a, b");
  const env = await res.json();
  assert.equal(env.REQUEST_METHOD, "POST");
  assert.equal(env.PATH_INFO, "/a%20b/c");
  assert.equal(env.QUERY_STRING, "x=1&y=%C3%A9");
  assert.equal(env.SCRIPT_NAME, "");
  assert.equal(env.SERVER_NAME, "example.test");
  assert.equal(env.SERVER_PORT, "8080");
  assert.equal(env["rack.url_scheme"], "http");
  assert.equal(env.CONTENT_TYPE, "text/plain");
  assert.equal(env.CONTENT_LENGTH, "11");
  assert.equal(env.HTTP_X_CUSTOM_THING, "yes");
  assert.equal(env.HTTP_ACCEPT, "*/*");
  assert.equal(env.HTTP_CONTENT_TYPE, undefined);
  assert.equal(env.body, "hello\u0000bytes");
  assert.equal(env.input_binary, true);
});

Deno.test("Rack runner serves binary bodies byte for byte and honours HEAD and 204", async () => {
  const app = inlineApp(`
    run ->(env) {
      case env["PATH_INFO"]
      when "/bin" then [200, { "content-type" => "application/octet-stream" }, [(0..255).map(&:chr).join.b]]
      when "/empty" then [204, {}, []]
      else [200, { "content-type" => "text/plain" }, ["head body"]]
      end
    }
  `);
  const runner = createRackRunner(await bootRackInstance(program, app, quiet));
  const bin = new Uint8Array(
    await (await runner.handle(new Request("http://h/bin"))).arrayBuffer(),
  );
  assert.deepEqual(bin, Uint8Array.from({ length: 256 }, (_, i) => i));
  const empty = await runner.handle(new Request("http://h/empty"));
  assert.equal(empty.status, 204);
  assert.equal(empty.body, null);
  const head = await runner.handle(new Request("http://h/", { method: "HEAD" }));
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
});

Deno.test("Rack runner answers an app exception with a 500 and keeps serving", async () => {
  const app = inlineApp(
    `run ->(env) { env["PATH_INFO"] == "/boom" ? raise("kaboom") : [200, {}, ["fine"]] }`,
  );
  const lines: string[] = [];
  const runner = createRackRunner(
    await bootRackInstance(program, app, { log: (l) => lines.push(l) }),
  );
  const res = await runner.handle(new Request("http://h/boom"));
  assert.equal(res.status, 500);
  assert.match(await res.text(), /RuntimeError: kaboom/);
  assert.ok(lines.some((l) => l.includes("kaboom")), "the backtrace goes to the log");
  assert.equal(await (await runner.handle(new Request("http://h/ok"))).text(), "fine");
});

Deno.test("JavaScript interop raises a clear Ruby exception", async () => {
  const instance = await bootRackInstance(
    program,
    inlineApp(`run ->(env) { [200, {}, []] }`),
    quiet,
  );
  const msg = await instance.evalString(`
    require "js"
    begin
      JS.global[:document]
      "no error"
    rescue JS::Error => e
      e.message
    end
  `);
  assert.equal(msg, JS_INTEROP_MESSAGE);
  await assert.rejects(() => instance.evalString(`JS.eval("1").to_s`), (e: unknown) => {
    assert.ok(e instanceof RubyError);
    assert.match(e.message, /JavaScript interop is not available on Thaw/);
    return true;
  });
});

Deno.test("an app file that defines no Rack app fails to boot with a clear error", async () => {
  await assert.rejects(
    () => bootRackInstance(program, inlineApp(`x = 1`), quiet),
    /defined no Rack app: end it with run\(app\)/,
  );
});

Deno.test("the app package is mounted read-only, and no instance can change it", async () => {
  const app = inlineApp(`run ->(env) { [200, {}, []] }`);
  const first = await bootRackInstance(program, app, quiet);
  assert.match(await first.evalString(`File.read("/app/app.rb")`), /run ->/);
  for (const attempt of [`File.write("/app/app.rb", "x")`, `File.open("/app/app.rb", "w")`]) {
    assert.match(
      await first.evalString(
        `begin; ${attempt}; "wrote"; rescue SystemCallError => e; e.class.name; end`,
      ),
      /Errno::(EROFS|ENOTCAPABLE|EBADF)/,
    );
  }
  assert.match(await first.evalString(`File.read("/app/app.rb")`), /run ->/, "not truncated");
  const second = await bootRackInstance(program, app, quiet);
  assert.match(await second.evalString(`File.read("/app/app.rb")`), /run ->/);
});

Deno.test("ruby-blog boots and serves its pages, JSON API and static files", async () => {
  const { snap } = await blog();
  assert.deepEqual(snap.statuses, [200, 200, 200, 200]);
  const runner = createRackRunner(await bootRackInstance(program, await readRackApp(BLOG), quiet));
  const home = await runner.handle(new Request("http://localhost/"));
  assert.equal(home.status, 200);
  assert.match(home.headers.get("content-type")!, /text\/html/);
  const html = await home.text();
  assert.match(html, /<title>Thawed Notes · Thawed Notes<\/title>/);
  assert.match(html, /How restore works for Ruby/);
  const css = await runner.handle(new Request("http://localhost/static/style.css"));
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
  const missing = await runner.handle(new Request("http://localhost/api/posts/nope"));
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "No post nope", status: 404 });
  const wrongVerb = await runner.handle(new Request("http://localhost/api/preview"));
  assert.equal(wrongVerb.status, 405);
  assert.equal(wrongVerb.headers.get("allow"), "POST");
  await wrongVerb.body?.cancel();
});

Deno.test("ruby-blog restored from its journal renders real pages and JSON", async () => {
  const { app, snap } = await blog();
  const image = decodeRubyJournal(snap.journal, { configHash: await appHash(app) });
  const booted = createRackRunner(await bootRackInstance(program, app, quiet));
  for (let i = 0; i < 2; i++) {
    const runner = createRackRunner(restoreRackInstance(program, app, image, quiet));
    const post = await runner.handle(new Request("http://localhost/posts/how-restore-works"));
    assert.equal(post.status, 200);
    const html = await post.text();
    assert.match(html, /<h1>How restore works for Ruby<\/h1>/);
    assert.match(html, /<pre><code class="language-ruby">Thaw::Rack.serve/);
    const expected =
      await (await booted.handle(new Request("http://localhost/posts/how-restore-works")))
        .text();
    assert.equal(html, expected, "restored and booted instances render the same page");

    const api = await runner.handle(new Request("http://localhost/api/posts?tag=ruby&limit=2"));
    const json = await api.json();
    assert.equal(json.count, 4);
    assert.equal(json.posts.length, 2);
    assert.equal(json.posts[0].slug, "hello-thaw");
    assert.deepEqual(json.posts[0].tags, ["ruby", "thaw", "wasm"]);
    assert.equal(json.posts[1].slug, "erb-without-rails");

    const search = await runner.handle(new Request("http://localhost/api/search?q=snapshot"));
    assert.ok(
      (await search.json()).results.some((p: { slug: string }) => p.slug === "how-restore-works"),
    );

    const preview = await runner.handle(
      new Request("http://localhost/api/preview", {
        method: "POST",
        body: JSON.stringify({ markdown: "# Title\n\nSome **bold** `code`" }),
      }),
    );
    assert.deepEqual(await preview.json(), {
      html: '<h2 id="title">Title</h2>\n<p>Some <strong>bold</strong> <code>code</code></p>',
      words: 4,
    });
    const bad = await runner.handle(
      new Request("http://localhost/api/preview", { method: "POST", body: "{nope" }),
    );
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  }
});

Deno.test("the entry point travels in the snapshot: a restored instance calls it without parsing Ruby", async () => {
  const { app, snap } = await blog();
  const image = decodeRubyJournal(snap.journal, { configHash: await appHash(app) });
  const [recvIndex, midIndex] = program.layout.entryGlobals!;
  const captured = new Map(image.globals.map((g) => [g.index, g.value]));
  assert.ok(Number(captured.get(recvIndex)) > 0, "the receiver is in the journal");
  assert.ok(Number(captured.get(midIndex)) > 0, "the method id is in the journal");
  const restored = restoreRackInstance(program, app, image, quiet);
  assert.equal(
    (restored.exported(`thaw_global_${recvIndex}`) as WebAssembly.Global).value,
    captured.get(recvIndex),
  );
  const viaCall = await (await createRackRunner(restored).handle(
    new Request("http://localhost/api/posts?limit=1"),
  )).text();
  // A module prepared before the entry globals existed evaluates `Thaw::Rack.serve` instead.
  const older = { ...program, layout: { ...program.layout, entryGlobals: undefined } };
  const viaEval = await (await createRackRunner(restoreRackInstance(older, app, image, quiet))
    .handle(new Request("http://localhost/api/posts?limit=1"))).text();
  assert.equal(viaCall, viaEval);
  assert.equal(JSON.parse(viaCall).posts.length, 1);
});

Deno.test("decodeRubyJournal() refuses a journal of another app or module", async () => {
  const { snap } = await blog();
  assert.throws(
    () => decodeRubyJournal(snap.journal, { configHash: new Uint8Array(32) }),
    RubyJournalError,
  );
  assert.throws(
    () => decodeRubyJournal(snap.journal, { moduleHash: new Uint8Array(32) }),
    /captured from another module/,
  );
  assert.throws(() => decodeRubyJournal(snap.journal.subarray(0, 100)));
});

Deno.test("restore into a pooled memory works, and the pool zeroes it again after use", async () => {
  const { app, snap } = await blog();
  const image = decodeRubyJournal(snap.journal);
  const pool = new MemoryPool({ classPages: 64, maxIdle: 1 });
  try {
    await pool.prefill(image.pages, 1);
    const memory = pool.take(image.pages);
    assert.equal(pool.stats().hits, 1);
    const runner = createRackRunner(restoreRackInstance(program, app, image, { ...quiet, memory }));
    const res = await runner.handle(new Request("http://localhost/archive"));
    assert.match(await res.text(), /<h1>Archive<\/h1>/);
    pool.give(memory);
    await pool.idle();
    assert.ok(new Uint8Array(memory.buffer).every((b) => b === 0), "zeroed after use");
    assert.equal(pool.take(image.pages), memory, "the zeroed memory is reused");
  } finally {
    pool.close();
  }
});

Deno.test("encodeRackRequest() lays out meta and body lengths", () => {
  const bytes = encodeRackRequest(
    new Request("https://h.test/p?q", { method: "PUT", body: "xyz" }),
    new TextEncoder().encode("xyz"),
  );
  const dv = new DataView(bytes.buffer);
  const metaLen = dv.getUint32(0, true);
  assert.equal(dv.getUint32(4, true), 3);
  const meta = new TextDecoder().decode(bytes.subarray(8, 8 + metaLen)).split("\0");
  assert.deepEqual(meta.slice(0, 6), ["PUT", "/p", "q", "h.test", "443", "https"]);
  assert.equal(new TextDecoder().decode(bytes.subarray(8 + metaLen)), "xyz");
});

Deno.test("readRackApp() needs an entry file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(() => readRackApp(dir), /no app\.rb/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a snapshot refuses an app that left a file open", async () => {
  const app: RackApp = {
    files: new Map([
      [
        "app.rb",
        new TextEncoder().encode(`$keep = File.open("/app/data.txt"); run ->(e) { [200, {}, []] }`),
      ],
      ["data.txt", new TextEncoder().encode("x")],
    ]),
  };
  await assert.rejects(
    () => snapshotRackApp(program, app, [{ path: "/" }], quiet),
    /the app left fds 4 open/,
  );
});

Deno.test("an app may sleep: the guest suspends through JSPI", async () => {
  const app = inlineApp(
    `run ->(env) { t = Time.now; sleep 0.02; [200, {}, [(Time.now - t >= 0.02).to_s]] }`,
  );
  const runner = createRackRunner(await bootRackInstance(program, app, quiet));
  assert.equal(await (await runner.handle(new Request("http://h/"))).text(), "true");
});

Deno.test("a guest unwound from outside Ruby is dead: GuestAbortedError, a RuntimeError", async () => {
  const app = inlineApp(
    `run ->(env) { env["PATH_INFO"] == "/die" ? exit!(3) : [200, {}, ["alive"]] }`,
  );
  const runner = createRackRunner(await bootRackInstance(program, app, quiet));
  assert.equal(await (await runner.handle(new Request("http://h/"))).text(), "alive");
  await assert.rejects(() => runner.handle(new Request("http://h/die")), (e: unknown) => {
    assert.ok(e instanceof GuestAbortedError);
    assert.ok(e instanceof WebAssembly.RuntimeError, "the Worker treats it as fatal");
    return true;
  });
  await assert.rejects(() => runner.handle(new Request("http://h/")), GuestAbortedError);
});

Deno.test("readRackApp() leaves out VCS directories and a bundle's manifest and journal", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/app.rb`, "run ->(e) { [200, {}, []] }");
    await Deno.writeTextFile(`${dir}/manifest.json`, "{}");
    await Deno.writeTextFile(`${dir}/app.journal`, "x");
    await Deno.mkdir(`${dir}/.git`);
    await Deno.writeTextFile(`${dir}/.git/HEAD`, "ref");
    await Deno.mkdir(`${dir}/lib`);
    await Deno.writeTextFile(`${dir}/lib/manifest.json`, "{}");
    const app = await readRackApp(dir);
    assert.deepEqual([...app.files.keys()].sort(), ["app.rb", "lib/manifest.json"]);
    await Deno.remove(`${dir}/app.journal`);
    assert.deepEqual(await appHash(app), await appHash(await readRackApp(dir)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bytes written straight to fd 1 fail that request with a 502, not the instance", async () => {
  const app = inlineApp(`
    run ->(env) {
      puts "to the log"
      STDOUT.puts "to the log too"
      IO.for_fd(1, autoclose: false).tap { |io| io.sync = true }.write("junk") if env["PATH_INFO"] == "/junk"
      [200, {}, ["fine"]]
    }
  `);
  const lines: string[] = [];
  const runner = createRackRunner(
    await bootRackInstance(program, app, { log: (l) => lines.push(l) }),
  );
  assert.equal(await (await runner.handle(new Request("http://h/"))).text(), "fine");
  assert.deepEqual(lines, ["to the log", "to the log too"]);
  await assert.rejects(() => runner.handle(new Request("http://h/junk")), (e: unknown) => {
    assert.ok(e instanceof FrameError);
    assert.equal(e.status, 502);
    assert.match(e.message, /writing to fd 1 \(STDOUT\) directly/);
    return true;
  });
  assert.equal(await (await runner.handle(new Request("http://h/"))).text(), "fine");
});

Deno.test("handleRaw() answers plain data, the same as handle()", async () => {
  const runner = createRackRunner(await bootRackInstance(program, ECHO, quiet));
  const raw = await runner.handleRaw({
    method: "POST",
    url: "http://example.test/raw?q=1",
    headers: [["content-type", "text/plain"], ["x-a", "b"]],
    body: new TextEncoder().encode("payload"),
  });
  assert.equal(raw.status, 201);
  assert.ok(raw.headers.some(([n, v]) => n === "content-type" && v === "application/json"));
  const env = JSON.parse(new TextDecoder().decode(raw.body!));
  assert.equal(env.PATH_INFO, "/raw");
  assert.equal(env.QUERY_STRING, "q=1");
  assert.equal(env.HTTP_X_A, "b");
  assert.equal(env.CONTENT_LENGTH, "7");
  assert.equal(env.body, "payload");
  const head = await runner.handleRaw({
    method: "HEAD",
    url: "http://h/",
    headers: [],
    body: null,
  });
  assert.equal(head.body, null);
});

Deno.test("the Worker boot function (RACK_BOOT_URL) restores from the spec's journal", async () => {
  const { snap } = await blog();
  const journalPath = await Deno.makeTempFile({ suffix: ".journal" });
  try {
    await Deno.writeFile(journalPath, snap.journal);
    const { boot } = await import(RACK_BOOT_URL);
    const spec = {
      name: "ruby-blog",
      runner: "rack",
      env: {},
      args: [],
      wasmPath: "ruby.wasm",
      mounts: [{ guest: "/app", host: BLOG.pathname }],
      journalPath,
    };
    const restored = await boot(program.module, spec);
    assert.ok("decode" in restored.phases && "restore" in restored.phases);
    const res = await restored.runner.handle(new Request("http://localhost/api/tags"));
    assert.equal(res.status, 200);
    assert.ok((await res.json()).tags.some((t: { tag: string }) => t.tag === "ruby"));
    await assert.rejects(
      () => boot(program.module, { ...spec, mounts: [] }),
      /needs its package mounted at \/app/,
    );
  } finally {
    await Deno.remove(journalPath);
  }
});

Deno.test("an image that sets a global the module lacks is refused with a clear message", async () => {
  const { app, snap } = await blog();
  const image = decodeRubyJournal(snap.journal, { configHash: await appHash(app) });
  const bad = { ...image, globals: [...image.globals, { index: 9999, value: 1 }] };
  assert.throws(
    () => restoreRackInstance(program, app, bad, quiet),
    /sets global 9999, which this prepared module does not export.*redeploy/,
  );
});
