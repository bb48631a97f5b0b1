import assert from "node:assert/strict";
import { loadApp } from "../../../config/mod.ts";
import { deploy, uploadBundle } from "../../../cli/deploy/mod.ts";
import {
  compilationHints,
  createRackRunner,
  decodeRubyJournal,
  loadRubyProgram,
  readRackApp,
  RUBY_BUNDLE_MODULE,
  RUBY_RESTORE_MODULE,
  RubyInstance,
} from "../../../runtime/runners/rack.ts";
import { readLayout } from "../../../runtime/runners/rack.ts";
import {
  checkBundleFiles,
  moduleIdentity,
  readBundleFiles,
  sha256Hex,
} from "../../../runtime/snapshot/mod.ts";
import { createHost, loadHostApp } from "../../../runtime/host/mod.ts";
import { rawGet, serve } from "./_serve.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** Copies a bundle's files (as its manifest lists them) to `to`, through `edit` if given. */
async function copyBundle(
  from: string,
  to: string,
  edit: (path: string, bytes: Uint8Array) => Uint8Array = (_, b) => b,
): Promise<void> {
  for (const [path, bytes] of await readBundleFiles(from)) {
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    await Deno.mkdir(`${to}/${dir}`, { recursive: true });
    await Deno.writeFile(`${to}/${path}`, edit(path, bytes));
  }
}

Deno.test("deploy a Rack app: a self-contained bundle restores the warmed blog, here, copied elsewhere and uploaded", async () => {
  const out = `${ROOT}out/test-ruby-blog-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const requests: string[] = [];
    const { manifest, warnings } = await deploy(await loadApp(`${ROOT}examples/ruby-blog`), {
      out,
      onEvent: (e) => {
        if (e.type === "request") {
          assert.ok(e.ok, e.problem);
          requests.push(e.path);
        }
      },
    });
    assert.deepEqual(requests.slice(0, 6), [
      "/",
      "/posts/hello-thaw",
      "/api/posts",
      "/tags/ruby",
      "/archive",
      "/posts/how-restore-works",
    ]);
    assert.equal(requests.length, 12);
    assert.equal(manifest.runner, "rack");
    assert.equal(manifest.module.shipped, undefined);
    assert.equal(manifest.module.file, RUBY_BUNDLE_MODULE);
    assert.ok(!warnings.some((w) => w.includes("does not carry ruby.wasm")));
    assert.equal((await checkBundleFiles(await readBundleFiles(out))).name, "ruby-blog");
    const bundled = await Deno.readFile(`${out}/${RUBY_BUNDLE_MODULE}`);
    assert.equal(bundled.length, manifest.module.size);
    assert.equal(await sha256Hex(bundled), manifest.module.sha256);
    assert.equal(await moduleIdentity(bundled), manifest.moduleIdentity);
    assert.match(
      await Deno.readTextFile(`${out}/wasmer.toml`),
      new RegExp(`^source = "${RUBY_BUNDLE_MODULE}"$`, "m"),
    );

    // Restore from the bundle as the Rack runner's Worker does: the package is the bundle itself.
    const app = await loadApp(out);
    const program = await loadRubyProgram(await Deno.readFile(app.wasmPath));
    const rackApp = await readRackApp(out, { env: { ...app.env } });
    const image = decodeRubyJournal(await Deno.readFile(`${out}/snapshot.journal`));
    const runner = createRackRunner(RubyInstance.restore(program, rackApp, image));
    const res = await runner.handle(new Request("http://ruby-blog.localhost/"));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Thawed Notes/);

    // Compilation hints: the functions the restored warm-up ran, in both shipped modules; the
    // restore-only variant is listed in the manifest and keeps the module identity.
    const hints = compilationHints(bundled);
    assert.ok(hints.length > 100, `${hints.length} hinted functions`);
    const small = await Deno.readFile(`${out}/${RUBY_RESTORE_MODULE}`);
    assert.ok(small.length < bundled.length / 2);
    assert.deepEqual(compilationHints(small), hints);
    assert.equal(await moduleIdentity(small), manifest.moduleIdentity);
    assert.ok(manifest.files.some((f) => f.path === RUBY_RESTORE_MODULE));

    // And through the host, whose Rack boot checks the journal against the module and the files.
    // It compiles the restore-only module and decodes the journal once, for every Worker.
    const hostApp = await loadHostApp(out);
    assert.equal(readLayout(hostApp.module).restoreOnly, true);
    assert.ok(hostApp.spec.journalImage !== undefined);
    const host = createHost({ apps: [hostApp], prespawn: 0 });
    try {
      const r = await host.fetch(new Request("http://ruby-blog.localhost/api/posts"));
      assert.equal(r.status, 200);
      assert.match(await r.text(), /"count":7/);
      assert.match(r.headers.get("server-timing") ?? "", /restore;dur=/);
    } finally {
      await host.close();
    }

    // Self-contained: a copy far from the checkout (no node_modules on the way up) is served and
    // restores from its journal.
    const elsewhere = await Deno.makeTempDir();
    try {
      const copy = `${elsewhere}/ruby-blog`;
      await copyBundle(out, copy);
      assert.ok(!copy.startsWith(ROOT));
      const copied = await loadHostApp(copy);
      const away = createHost({ apps: [copied], prespawn: 0 });
      try {
        const r = await away.fetch(new Request("http://ruby-blog.localhost/api/posts"));
        assert.equal(r.status, 200);
        assert.match(await r.text(), /"count":7/);
        const timing = r.headers.get("server-timing") ?? "";
        assert.match(timing, /restore;dur=/);
        assert.doesNotMatch(timing, /journal_rejected/);
      } finally {
        await away.close();
      }

      // A copy whose journal is damaged still serves: the host compiled the restore-only module,
      // so the instance reads the full one and boots Ruby from scratch.
      const broken = `${elsewhere}/broken-blog`;
      await copyBundle(
        out,
        broken,
        (path, bytes) => path === "snapshot.journal" ? bytes.slice(0, bytes.length >> 1) : bytes,
      );
      const brokenApp = await loadHostApp(broken);
      assert.equal(readLayout(brokenApp.module).restoreOnly, true);
      assert.equal(brokenApp.spec.journalImage, undefined);
      const cold = createHost({ apps: [brokenApp], prespawn: 0 });
      try {
        const r = await cold.fetch(new Request("http://ruby-blog.localhost/api/posts"));
        assert.equal(r.status, 200);
        assert.match(await r.text(), /"count":7/);
        const timing = r.headers.get("server-timing") ?? "";
        assert.match(timing, /journal_rejected_unreadable/);
        assert.match(timing, /boot;dur=/);
      } finally {
        await cold.close();
      }

      // And uploaded (deploy --to) to a host whose apps directory is outside the checkout.
      await Deno.mkdir(`${elsewhere}/apps`);
      const server = await serve(`${elsewhere}/apps`, "tok");
      try {
        assert.deepEqual(await uploadBundle(out, { url: server.url, token: "tok" }), {
          name: "ruby-blog",
        });
        const r = await rawGet(server.url, "ruby-blog.localhost", "/api/posts");
        assert.equal(r.status, 200, r.body);
        assert.match(r.body, /"count":7/);
        assert.match(r.timing ?? "", /restore;dur=/);
      } finally {
        await server.stop();
      }
    } finally {
      await Deno.remove(elsewhere, { recursive: true });
    }
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
});
