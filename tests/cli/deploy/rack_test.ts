import assert from "node:assert/strict";
import { loadApp } from "../../../config/mod.ts";
import { deploy } from "../../../cli/deploy/mod.ts";
import {
  createRackRunner,
  decodeRubyJournal,
  loadRubyProgram,
  readRackApp,
  RubyInstance,
} from "../../../runtime/runners/mod.ts";
import { checkBundleFiles, readBundleFiles } from "../../../runtime/snapshot/mod.ts";
import { createHost, loadHostApp } from "../../../runtime/host/mod.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

Deno.test("deploy a Rack app: the bundle's journal restores the warmed blog", async () => {
  // Two levels below the checkout, like out/<name>: the bundle names Thaw's ruby.wasm relatively.
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
    assert.deepEqual(requests, ["/", "/posts/hello-thaw", "/api/posts", "/tags/ruby", "/archive"]);
    assert.equal(manifest.runner, "rack");
    assert.equal(manifest.module.shipped, false);
    assert.ok(warnings.some((w) => w.includes("does not carry ruby.wasm")));
    assert.equal((await checkBundleFiles(await readBundleFiles(out))).name, "ruby-blog");

    // Restore from the bundle as the Rack runner's Worker does: the package is the bundle itself.
    const app = await loadApp(out);
    const program = await loadRubyProgram(await Deno.readFile(app.wasmPath));
    const rackApp = await readRackApp(out, { env: { ...app.env } });
    const image = decodeRubyJournal(await Deno.readFile(`${out}/snapshot.journal`));
    const runner = createRackRunner(RubyInstance.restore(program, rackApp, image));
    const res = await runner.handle(new Request("http://ruby-blog.localhost/"));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Thawed Notes/);

    // And through the host, whose Rack boot checks the journal against the module and the files.
    const host = createHost({ apps: [await loadHostApp(out)], prespawn: 0 });
    try {
      const r = await host.fetch(new Request("http://ruby-blog.localhost/api/posts"));
      assert.equal(r.status, 200);
      assert.match(await r.text(), /"count":7/);
      assert.match(r.headers.get("server-timing") ?? "", /restore;dur=/);
    } finally {
      await host.close();
    }
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
});
