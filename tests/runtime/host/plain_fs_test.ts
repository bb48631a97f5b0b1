/**
 * A plain app (no journal) and an instaboot bundle see the same file system: a writable memory `/`
 * with the package mounted read-only.
 */
import assert from "node:assert/strict";
import { createHost, loadApps } from "../../../runtime/host/mod.ts";
import { SNAPSHOT_BOOT_URL } from "../../../runtime/snapshot/mod.ts";
import { buildGuest } from "../snapshot/_guests.ts";

async function plainApp(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/apps/snap-server`, { recursive: true });
  await Deno.writeFile(`${dir}/apps/snap-server/server.wasm`, await buildGuest("snap_server"));
  await Deno.writeTextFile(
    `${dir}/apps/snap-server/app.yaml`,
    `kind: wasmer.io/App.v0
name: snap-server
package: server.wasm
runner: proxy
env:
  PORT: "8080"
`,
  );
}

Deno.test("a plain app gets a writable memory / (it can write /tmp), as a bundle does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await plainApp(dir);
    const { apps, broken } = await loadApps(`${dir}/apps`);
    assert.deepEqual(broken, []);
    assert.equal(apps[0].spec.journalPath, undefined);
    assert.equal(apps[0].bootUrl, SNAPSHOT_BOOT_URL);
    const host = createHost({ apps, prespawn: 0, idleTimeoutMs: 100, log: () => {} });
    try {
      const get = async (path: string) => {
        const res = await host.fetch(new Request(`http://snap-server.localhost${path}`));
        return {
          status: res.status,
          body: await res.text(),
          timing: res.headers.get("server-timing"),
        };
      };
      // The guest wrote /tmp/boot.txt while booting, and writes /tmp/count.txt on /write.
      const first = await get("/state");
      assert.equal(first.status, 200, first.body);
      assert.match(first.body, /^boots=1 restores=0 counter=0 file=none bootfile=boot 1 /);
      assert.match(first.timing ?? "", /instantiate;dur=/);
      assert.doesNotMatch(first.timing ?? "", /journal_rejected/);
      assert.equal((await get("/write")).body, "wrote\n");
      assert.match((await get("/state")).body, /file=written at counter 0 bootfile=boot 1/);
      // Nothing reached the host: the files live in the instance's memory file system.
      await assert.rejects(Deno.stat(`${dir}/apps/snap-server/tmp`));
      // A fresh instance (after scale to zero) starts from the package again.
      await new Promise((r) => setTimeout(r, 400));
      assert.match(
        (await get("/state")).body,
        /^boots=1 restores=0 counter=0 file=none bootfile=boot 1 /,
      );
    } finally {
      await host.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
