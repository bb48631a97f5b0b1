import assert from "node:assert/strict";
import { createAdminHandler } from "../../../runtime/host/admin.ts";
import { bootOrRestore } from "../../../runtime/snapshot/mod.ts";
import { collector, loadBundle, specOf, thaw } from "./_app.ts";

Deno.test("deno task deploy: the WASIX example restores with its warmed counter", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/wasix-http-server`;
    const r = await thaw("deploy", "examples/wasix-http-server", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[2\/2\] GET \/counter → 200 ✓/);
    assert.match(r.stdout, /✓ snapshot at epoll_wait \(poll\)/);
    assert.match(r.stdout, /Bundle .*wasix-http-server/);
    const { app, module } = await loadBundle(out);
    const stdout = collector();
    const d = await bootOrRestore(module, specOf(app, `${out}/snapshot.journal`), {
      stdout: stdout.write,
      stderr: "null",
    });
    assert.equal(d.mode, "restore", JSON.stringify(d.rejected));
    const res = await d.runner.handle(new Request("http://wasix-http-server.localhost/counter"));
    assert.equal((await res.text()).trim(), "2");
    const page = await d.runner.handle(new Request("http://wasix-http-server.localhost/"));
    assert.equal(page.status, 200);
    await page.body?.cancel();
    // The example prints "listening" once, at boot; a restored instance never boots.
    assert.ok(!stdout.text().includes("listening"), stdout.text());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task deploy --to: uploads to the admin API; a bad token fails with 401", async () => {
  const dir = await Deno.makeTempDir();
  const admin = createAdminHandler({ token: "s3cret", appsDir: `${dir}/apps` });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, admin);
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    const bad = await thaw(
      "deploy",
      "examples/wcgi-hello",
      "--out",
      `${dir}/b1`,
      "--to",
      url,
      "--token",
      "wrong",
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /401/);
    const ok = await thaw(
      "deploy",
      "examples/wcgi-hello",
      "--out",
      `${dir}/b2`,
      "--to",
      url,
      "--token",
      "s3cret",
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /uploaded to/);
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/apps/wcgi-hello/manifest.json`));
    assert.equal(manifest.name, "wcgi-hello");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task deploy: invalid app.yaml and missing token exit with clear errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/app.yaml`, "kind: wasmer.io/App.v0\nname: Bad Name\n");
    const r = await thaw("deploy", dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /app\.yaml/);
    const noToken = await thaw("deploy", dir, "--to", "http://127.0.0.1:1");
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /admin token/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
