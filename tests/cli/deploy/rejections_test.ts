import assert from "node:assert/strict";
import { loadApp } from "../../../config/mod.ts";
import { deploy } from "../../../cli/deploy/mod.ts";
import { snapServerApp } from "./_app.ts";
import { rawGet, serve } from "./_serve.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** Deploys the snap_server test app into `<dir>/apps/snap-server`; returns the bundle path. */
async function bundle(dir: string, appYamlExtra = ""): Promise<string> {
  const out = `${dir}/apps/snap-server`;
  await deploy(await loadApp(await snapServerApp(dir, appYamlExtra)), {
    out,
    cacheDir: `${ROOT}.thaw-cache`,
  });
  return out;
}

async function metrics(url: string): Promise<string> {
  return await (await fetch(`${url}/_thaw/metrics`)).text();
}

Deno.test("serve: a bundle whose journal is older than max_age cold-boots", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await bundle(dir, "    max_age: 1s\n");
    // Let the snapshot age past max_age before the host sees it.
    await new Promise((r) => setTimeout(r, 1200));
    const server = await serve(`${dir}/apps`);
    try {
      const res = await rawGet(server.url, "snap-server.localhost", "/state");
      assert.equal(res.status, 200, res.body);
      // A cold boot: the warm-up's counter and files are not there.
      assert.match(res.body, /^boots=1 restores=0 counter=0 /);
      assert.match(res.timing ?? "", /instantiate;dur=/);
      assert.match(res.timing ?? "", /journal_rejected_too-old;dur=0\.00/);
      assert.match(
        await metrics(server.url),
        /^thaw_journal_rejections_total\{app="snap-server",reason="too-old"\} 1$/m,
      );
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve: a journal within max_age is restored", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await bundle(dir, "    max_age: 1h\n");
    const server = await serve(`${dir}/apps`);
    try {
      const res = await rawGet(server.url, "snap-server.localhost", "/state");
      assert.equal(res.status, 200, res.body);
      assert.match(res.body, /^boots=1 restores=1 counter=2 /);
      assert.doesNotMatch(await metrics(server.url), /^thaw_journal_rejections_total\{/m);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve: a corrupted journal cold-boots and is counted in /_thaw/metrics", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await bundle(dir);
    const journal = await Deno.readFile(`${out}/snapshot.journal`);
    // Damage a byte in the middle: a record checksum fails.
    journal[Math.floor(journal.length / 2)] ^= 0x5a;
    await Deno.writeFile(`${out}/snapshot.journal`, journal);
    // One instance at most, stopped after 100 ms idle: every request below cold-boots.
    const server = await serve(`${dir}/apps`, undefined, [
      "--idle-timeout",
      "0.1",
      "--max-instances",
      "1",
    ]);
    try {
      for (let i = 1; i <= 2; i++) {
        const res = await rawGet(server.url, "snap-server.localhost", "/state");
        assert.equal(res.status, 200, res.body);
        assert.match(res.body, /^boots=1 restores=0 counter=0 /);
        assert.match(res.timing ?? "", /journal_rejected_unreadable;dur=/);
        const text = await metrics(server.url);
        assert.match(
          text,
          new RegExp(
            `^thaw_journal_rejections_total\\{app="snap-server",reason="unreadable"\\} ${i}$`,
            "m",
          ),
        );
        assert.match(text, /^# TYPE thaw_journal_rejections_total counter$/m);
        await new Promise((r) => setTimeout(r, 600));
      }
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
