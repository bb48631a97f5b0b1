import assert from "node:assert/strict";
import { snapServerApp, thaw } from "./_app.ts";
import { rawGet, serve } from "./_serve.ts";

Deno.test("deploy --to a running serve: the host switches versions without dropping requests", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/apps`);
  const server = await serve(`${dir}/apps`, "tok");
  try {
    const appDir = await snapServerApp(dir);
    const first = await thaw(
      "deploy",
      appDir,
      "--out",
      `${dir}/b1`,
      "--to",
      server.url,
      "--token",
      "tok",
    );
    assert.equal(first.code, 0, first.stderr);
    const get = (path: string) => rawGet(server.url, "snap-server.localhost", path);
    const v1 = await get("/state");
    assert.equal(v1.status, 200, v1.body);
    assert.match(v1.body, /^boots=1 restores=1 counter=2 /);
    assert.match(v1.timing ?? "", /restore;dur=/);

    // Version 2 warms up differently (three /inc); keep requests flowing while it is installed.
    const yaml = await Deno.readTextFile(`${appDir}/app.yaml`);
    await Deno.writeTextFile(
      `${appDir}/app.yaml`,
      yaml.replace("      - path: /inc\n", "      - path: /inc\n      - path: /inc\n"),
    );
    let stop = false;
    const statuses: number[] = [];
    const load = (async () => {
      while (!stop) statuses.push((await get("/state")).status);
    })();
    const second = await thaw(
      "deploy",
      appDir,
      "--out",
      `${dir}/b2`,
      "--to",
      server.url,
      "--token",
      "tok",
    );
    assert.equal(second.code, 0, second.stderr);
    // Give requests already routed to version 1 time to finish, then check version 2 serves.
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await load;
    assert.ok(statuses.length > 0);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], "a request was dropped");
    assert.match((await get("/state")).body, /^boots=1 restores=1 counter=3 /);
    // A bad token never installs anything.
    const bad = await thaw(
      "deploy",
      appDir,
      "--out",
      `${dir}/b3`,
      "--to",
      server.url,
      "--token",
      "nope",
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /401/);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
