import assert from "node:assert/strict";
import { runGuest } from "./_run.ts";

for (const name of ["wasix_sockets", "wasix_pipes", "wasix_epoll", "wasix_errors", "wasix_proc"]) {
  Deno.test(`${name} guest passes all its checks`, async () => {
    const r = await runGuest(name);
    assert.equal(r.code, 0, `${name} failed:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /checks, 0 failures/);
  });
}
