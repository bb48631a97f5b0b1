import assert from "node:assert/strict";
import { loadApp } from "../../../config/mod.ts";
import { deploy, DeployError } from "../../../cli/deploy/mod.ts";
import { bootOrRestore } from "../../../runtime/snapshot/mod.ts";
import { buildGuest } from "../../runtime/snapshot/_guests.ts";
import { loadBundle, specOf } from "./_app.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

Deno.test("WCGI: a restored instance answers with the new request, never the warm-up's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/bundle`;
    const result = await deploy(await loadApp(`${ROOT}examples/wcgi-hello`), {
      out,
      cacheDir: `${ROOT}.thaw-cache`,
    });
    assert.match(result.manifest.journal.trigger, /first-stdin at fd_read \(stdin\)/);
    const { app, module } = await loadBundle(out);
    const d = await bootOrRestore(module, specOf(app, `${out}/snapshot.journal`), {
      stdout: "null",
      stderr: "null",
    });
    assert.equal(d.mode, "restore", JSON.stringify(d.rejected));
    for (
      const [method, path, query, body] of [
        ["POST", "/orders/42", "sort=desc&x=1", "hello restored world"],
        ["PUT", "/a/b", "q=2", "second"],
        ["GET", "/plain", "", ""],
      ]
    ) {
      const res = await d.runner.handle(
        new Request(`http://wcgi-hello.localhost${path}${query ? "?" + query : ""}`, {
          method,
          body: method === "GET" ? undefined : body,
        }),
      );
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.ok(text.includes(method), text);
      assert.ok(text.includes(path), text);
      if (query) assert.ok(text.includes(query), text);
      if (body) assert.ok(text.includes(body), text);
      assert.ok(!text.includes("warm-up") && !text.includes("from=instaboot"), text);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WCGI: deploy refuses a guest that reads its environment before stdin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/eager.wasm`, await buildGuest("snap_wcgi_eager"));
    await Deno.writeTextFile(
      `${dir}/app.yaml`,
      `kind: wasmer.io/App.v0
name: eager
package: eager.wasm
runner: wcgi
capabilities:
  instaboot:
    mode: first-stdin
    requests:
      - path: /
`,
    );
    const err = await deploy(await loadApp(dir), {
      out: `${dir}/out`,
      cacheDir: `${ROOT}.thaw-cache`,
    })
      .catch((e) => e);
    assert.ok(err instanceof DeployError, String(err));
    assert.match(err.message, /read its environment before its first read of stdin/);
    // Nothing was written.
    await assert.rejects(() => Deno.stat(`${dir}/out`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
