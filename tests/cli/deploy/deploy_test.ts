import assert from "node:assert/strict";
import { loadApp } from "../../../config/mod.ts";
import { deploy, DeployError } from "../../../cli/deploy/mod.ts";
import { bootOrRestore, parseManifest } from "../../../runtime/snapshot/mod.ts";
import { collector, loadBundle, snapServerApp, specOf } from "./_app.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

async function get(
  runner: { handle(r: Request): Promise<Response> },
  path: string,
  init?: RequestInit,
) {
  const res = await runner.handle(new Request(`http://app.localhost${path}`, init));
  return { status: res.status, body: await res.text() };
}

Deno.test("deploy then restore: a restored server shows the warmed state and never boots again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const appDir = await snapServerApp(dir);
    const out = `${dir}/bundle`;
    const events: string[] = [];
    const result = await deploy(await loadApp(appDir), {
      out,
      cacheDir: `${ROOT}.thaw-cache`,
      onEvent: (e) => events.push(e.type),
    });
    assert.deepEqual(events.filter((e) => e === "request").length, 4);
    const m = result.manifest;
    assert.equal(m.journal.trigger, "bootstrap at sock_accept (accept)");
    assert.ok(m.bootFacts.randomBytes >= 4, "boot drew entropy");
    assert.ok(result.warnings.some((w) => w.includes("random bytes during boot")));
    assert.deepEqual(parseManifest(await Deno.readTextFile(`${out}/manifest.json`)), m);

    // Every capture-time instance is gone; each request below gets a new, restored instance.
    const { app, module } = await loadBundle(out);
    const ids = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const stdout = collector();
      const d = await bootOrRestore(module, specOf(app, `${out}/snapshot.journal`), {
        stdout: stdout.write,
        stderr: "null",
      });
      assert.equal(d.mode, "restore", JSON.stringify(d.rejected));
      const state = await get(d.runner, "/state");
      assert.equal(state.status, 200);
      assert.match(
        state.body,
        /^boots=1 restores=1 counter=2 file=written at counter 2 bootfile=boot 1 cache=a=1, id=\d+ table=0\n$/,
      );
      ids.add(/id=(\d+)/.exec(state.body)![1]);
      assert.equal((await get(d.runner, "/inc")).body, "counter=3\n");
      // The boot code's only output line never appears again.
      assert.equal(stdout.text(), "");
    }
    // thaw_after_restore drew fresh entropy in each instance.
    assert.equal(ids.size, 2);

    // The same bundle without its journal cold-boots: boot code runs, warm-up state is absent.
    const cold = await bootOrRestore(module, specOf(app), { stdout: "null", stderr: "null" });
    assert.equal(cold.mode, "cold");
    assert.match(
      (await get(cold.runner, "/state")).body,
      /^boots=1 restores=0 counter=0 file=none/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy with mode first-listen snapshots at the first accept, without warm-up", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const appDir = await snapServerApp(dir);
    const yaml = await Deno.readTextFile(`${appDir}/app.yaml`);
    await Deno.writeTextFile(
      `${appDir}/app.yaml`,
      yaml.replace("  instaboot:\n", "  instaboot:\n    mode: first-listen\n"),
    );
    const out = `${dir}/bundle`;
    const { manifest } = await deploy(await loadApp(appDir), {
      out,
      cacheDir: `${ROOT}.thaw-cache`,
    });
    assert.equal(manifest.journal.trigger, "first-listen at sock_accept (accept)");
    assert.deepEqual(manifest.warmup, []);
    const { app, module } = await loadBundle(out);
    const d = await bootOrRestore(module, specOf(app, `${out}/snapshot.journal`), {
      stdout: "null",
      stderr: "null",
    });
    assert.equal(d.mode, "restore");
    assert.match(
      (await get(d.runner, "/state")).body,
      /^boots=1 restores=1 counter=0 file=none bootfile=boot 1/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy with mode explicit snapshots inside proc_snapshot; restore resumes after it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const appDir = await snapServerApp(dir);
    const yaml = await Deno.readTextFile(`${appDir}/app.yaml`);
    await Deno.writeTextFile(
      `${appDir}/app.yaml`,
      yaml.replace('  PORT: "8080"\n', '  PORT: "8080"\n  EXPLICIT_SNAPSHOT: "1"\n')
        .replace("  instaboot:\n", "  instaboot:\n    mode: explicit\n"),
    );
    const out = `${dir}/bundle`;
    const { manifest } = await deploy(await loadApp(appDir), {
      out,
      cacheDir: `${ROOT}.thaw-cache`,
    });
    assert.equal(manifest.journal.trigger, "explicit at proc_snapshot (explicit)");
    const { app, module } = await loadBundle(out);
    const stdout = collector();
    const d = await bootOrRestore(module, specOf(app, `${out}/snapshot.journal`), {
      stdout: stdout.write,
      stderr: "null",
    });
    assert.equal(d.mode, "restore", JSON.stringify(d.rejected));
    // counter was 100 at the snapshot; the code after proc_snapshot ran once, in the restored
    // instance, which then listened on its own.
    assert.match((await get(d.runner, "/state")).body, /^boots=1 restores=1 counter=101 /);
    assert.match(stdout.text(), /^booted, listening on 8080\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy and restore the preview1 example (pre-opened listener)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/bundle`;
    const { manifest } = await deploy(await loadApp(`${ROOT}examples/preview1-server`), {
      out,
      cacheDir: `${ROOT}.thaw-cache`,
    });
    assert.match(manifest.journal.trigger, /^bootstrap at poll_oneoff/);
    const { app, module } = await loadBundle(out);
    const d = await bootOrRestore(module, specOf(app, `${out}/snapshot.journal`), {
      stdout: "null",
      stderr: "null",
    });
    assert.equal(d.mode, "restore", JSON.stringify(d.rejected));
    const r = await get(d.runner, "/");
    assert.equal(r.status, 200);
    assert.match(r.body, /hello from preview1-server/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy fails clearly when a warm-up expect fails, and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const appDir = await snapServerApp(dir);
    const yaml = await Deno.readTextFile(`${appDir}/app.yaml`);
    await Deno.writeTextFile(
      `${appDir}/app.yaml`,
      yaml.replace("body_includes: wrote", "body_includes: nope"),
    );
    const err = await deploy(await loadApp(appDir), {
      out: `${dir}/bundle`,
      cacheDir: `${ROOT}.thaw-cache`,
    }).catch((e) => e);
    assert.ok(err instanceof DeployError, String(err));
    assert.match(
      err.message,
      /warm-up request 4 \(GET \/write\) failed: body does not include "nope"/,
    );
    await assert.rejects(() => Deno.stat(`${dir}/bundle`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy refuses an app without capabilities.instaboot", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const appDir = await snapServerApp(dir);
    const yaml = await Deno.readTextFile(`${appDir}/app.yaml`);
    await Deno.writeTextFile(`${appDir}/app.yaml`, yaml.slice(0, yaml.indexOf("capabilities:")));
    const err = await deploy(await loadApp(appDir), { out: `${dir}/bundle` }).catch((e) => e);
    assert.ok(err instanceof DeployError);
    assert.match(err.message, /no capabilities\.instaboot/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
