import assert from "node:assert/strict";
import { loadApp } from "../../../config/mod.ts";
import { deploy } from "../../../cli/deploy/mod.ts";
import { createHost, type HostApp, loadApps, loadHostApp } from "../../../runtime/host/mod.ts";
import { SNAPSHOT_BOOT_URL, SNAPSHOT_WORKER_READ } from "../../../runtime/snapshot/mod.ts";
import { snapServerApp } from "./_app.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** The host's apps, booting through the instaboot boot function (which Workers must be able to read). */
function withRestore(apps: readonly HostApp[]): HostApp[] {
  return apps.map((a) => {
    const p = a.permissions;
    const read = typeof p === "object" && Array.isArray(p.read) ? p.read : [];
    return {
      ...a,
      bootUrl: SNAPSHOT_BOOT_URL,
      permissions: {
        read: [...read, ...SNAPSHOT_WORKER_READ],
        write: false,
        net: false,
        env: false,
        run: false,
        ffi: false,
        sys: false,
        import: false,
      },
    };
  });
}

Deno.test("host: after every instance stopped, a request is served by a restored instance", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await deploy(await loadApp(await snapServerApp(dir)), {
      out: `${dir}/apps/snap-server`,
      cacheDir: `${ROOT}.thaw-cache`,
    });
    const { apps, broken } = await loadApps(`${dir}/apps`);
    assert.deepEqual(broken, []);
    assert.ok(apps[0].spec.journalPath?.endsWith("snapshot.journal"));
    const host = createHost({ apps: withRestore(apps), idleTimeoutMs: 100, prespawn: 0 });
    try {
      for (let round = 0; round < 2; round++) {
        const res = await host.fetch(new Request("http://snap-server.localhost/state"));
        const body = await res.text();
        assert.equal(res.status, 200, body);
        assert.match(
          body,
          /^boots=1 restores=1 counter=2 file=written at counter 2 bootfile=boot 1/,
        );
        assert.match(res.headers.get("server-timing") ?? "", /restore;dur=/);
        // Change the live instance; the next round's fresh restore must not see this.
        const inc = await host.fetch(new Request("http://snap-server.localhost/inc"));
        assert.equal(await inc.text(), "counter=3\n");
        // Let the idle timeout stop every instance (scale to zero) before the next round.
        await new Promise((r) => setTimeout(r, 400));
      }
    } finally {
      await host.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("host: loadApps serves a bundle by restoring it, with no extra wiring", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await deploy(await loadApp(await snapServerApp(dir)), {
      out: `${dir}/apps/snap-server`,
      cacheDir: `${ROOT}.thaw-cache`,
    });
    const { apps } = await loadApps(`${dir}/apps`);
    assert.equal(apps[0].bootUrl, SNAPSHOT_BOOT_URL);
    const host = createHost({ apps, prespawn: 0 });
    try {
      const res = await host.fetch(new Request("http://snap-server.localhost/state"));
      const body = await res.text();
      assert.equal(res.status, 200, body);
      assert.match(body, /^boots=1 restores=1 counter=2 /);
    } finally {
      await host.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("host: a bundle's recorded config stands in for its app.yaml until the file changes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/apps/snap-server`;
    await deploy(await loadApp(await snapServerApp(dir)), { out, cacheDir: `${ROOT}.thaw-cache` });
    const manifest = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
    assert.equal(manifest.resolved.app.name, "snap-server");
    assert.equal(manifest.resolved.app.appDir, ".");
    assert.ok(manifest.resolved.sources["app.yaml"]);
    // Mark the record, so that the test sees which of the two the host used.
    manifest.resolved.app.env = { ...manifest.resolved.app.env, FROM_RECORD: "1" };
    await Deno.writeTextFile(`${out}/manifest.json`, JSON.stringify(manifest));
    const envOf = async (options?: { recorded: boolean }) => {
      const app = await loadHostApp(out, options);
      return app.spec.env;
    };
    assert.equal((await envOf()).FROM_RECORD, "1");
    // The admin API's uploads never trust the uploader's record.
    assert.equal((await envOf({ recorded: false })).FROM_RECORD, undefined);
    // An edited app.yaml is parsed again.
    await Deno.writeTextFile(`${out}/app.yaml`, "# edited\n", { append: true });
    assert.equal((await envOf()).FROM_RECORD, undefined);
    const { apps, broken } = await loadApps(`${dir}/apps`);
    assert.deepEqual(broken, []);
    assert.equal(apps[0].spec.env.FROM_RECORD, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
