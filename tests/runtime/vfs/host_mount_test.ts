import assert from "node:assert/strict";
import {
  type DirNode,
  FsError,
  hostMount,
  lookupPath,
  MemFs,
  nextHostEpoch,
  packageMount,
  readFileAt,
  resolve,
  type VNode,
} from "../../../runtime/vfs/mod.ts";
import { assertFsError, conformance } from "./_conformance.ts";

conformance("hostMount", async () => {
  const dir = await Deno.makeTempDir({ prefix: "thaw-vfs-" });
  return { root: hostMount(dir), cleanup: () => Deno.remove(dir, { recursive: true }) };
});

/**
 * A sandbox layout: base/outside holds secrets, base/mount is mounted. Links inside the mount
 * point outside in every way we could think of.
 */
async function sandbox() {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "thaw-escape-" }));
  await Deno.mkdir(`${base}/outside`);
  await Deno.writeTextFile(`${base}/outside/secret.txt`, "SECRET");
  await Deno.writeTextFile(`${base}/outside/f.txt`, "OUTSIDE-F");
  const m = `${base}/mount`;
  await Deno.mkdir(`${m}/sub`, { recursive: true });
  await Deno.writeTextFile(`${m}/inside.txt`, "inside");
  await Deno.writeTextFile(`${m}/sub/f.txt`, "INSIDE-F");
  await Deno.symlink(`${base}/outside/secret.txt`, `${m}/link_out_abs`);
  await Deno.symlink("../outside/secret.txt", `${m}/link_out_rel`);
  await Deno.symlink("../outside", `${m}/link_dir_out`);
  await Deno.symlink("..", `${m}/link_up`);
  await Deno.symlink("../..", `${m}/sub/link_up2`);
  await Deno.symlink("/", `${m}/link_root`);
  await Deno.symlink("link_loop_b", `${m}/link_loop_a`);
  await Deno.symlink("link_loop_a", `${m}/link_loop_b`);
  await Deno.symlink("link_self", `${m}/link_self`);
  await Deno.symlink("sub/../../outside", `${m}/link_chain`);
  await Deno.symlink("sub/link_up2", `${m}/link_to_link_up`);
  await Deno.symlink("inside.txt", `${m}/link_ok`);
  return { base, m, root: hostMount(m), cleanup: () => Deno.remove(base, { recursive: true }) };
}

const ESCAPES: [string, string][] = [
  ["../outside/secret.txt", "PERM"],
  ["/etc/passwd", "PERM"],
  ["sub/../../outside/secret.txt", "PERM"],
  ["./../outside", "PERM"],
  ["sub/./../..", "PERM"],
  ["link_out_abs", "PERM"],
  ["link_out_rel", "PERM"],
  ["link_dir_out/secret.txt", "PERM"],
  ["link_up/outside/secret.txt", "PERM"],
  ["sub/link_up2/outside/secret.txt", "PERM"],
  ["link_root/etc/passwd", "PERM"],
  ["link_loop_a", "LOOP"],
  ["link_self", "LOOP"],
  ["link_chain/secret.txt", "PERM"],
  ["..//outside", "PERM"],
  ["sub/../../../..", "PERM"],
  ["inside.txt/../../outside/secret.txt", "NOTDIR"],
  ["link_out_rel/", "PERM"],
  ["sub/\0../x", "INVAL"],
  ["link_to_link_up/outside/f.txt", "PERM"],
  ["sub//..//..//outside", "PERM"],
  ["link_dir_out/../mount/inside.txt", "PERM"],
];

for (const [path, code] of ESCAPES) {
  Deno.test(`hostMount refuses escape ${JSON.stringify(path)} with ${code}`, async () => {
    const s = await sandbox();
    try {
      assertFsError(() => resolve(s.root, path, true), code);
      assertFsError(() => {
        const node = lookupPath(s.root, path);
        if (node.kind === "file") node.open(false);
      }, code);
    } finally {
      await s.cleanup();
    }
  });
}

Deno.test("hostMount follows symlinks that stay inside", async () => {
  const s = await sandbox();
  try {
    assert.equal(new TextDecoder().decode(readFileAt(s.root, "link_ok")), "inside");
    assert.equal(new TextDecoder().decode(readFileAt(s.root, "sub/../inside.txt")), "inside");
    // Without following, a link to outside is just a link (reading its text is harmless).
    const l = resolve(s.root, "link_out_rel", false).node;
    assert.equal(l?.kind, "symlink");
  } finally {
    await s.cleanup();
  }
});

Deno.test("hostMount refuses creating symlinks with absolute targets", async () => {
  const s = await sandbox();
  try {
    assertFsError(() => s.root.symlink("evil", "/etc/passwd"), "PERM");
    assert.equal(s.root.lookup("evil"), null);
  } finally {
    await s.cleanup();
  }
});

Deno.test("hostMount detects a directory swapped for a symlink before open (race)", async () => {
  const s = await sandbox();
  try {
    const node = lookupPath(s.root, "sub/f.txt") as VNode & { kind: "file" };
    // The attacker swaps sub for a link to the outside directory, which has an f.txt too.
    await Deno.rename(`${s.m}/sub`, `${s.m}/sub_moved`);
    await Deno.symlink(`${s.base}/outside`, `${s.m}/sub`);
    nextHostEpoch(); // the swap happened between two syscalls
    assertFsError(() => node.open(false), "PERM");
    assertFsError(() => node.open(true), "PERM");
    assertFsError(() => node.setTimes(0n, 0n), "PERM");
    assertFsError(() => node.stat(), "PERM");
    assert.equal(await Deno.readTextFile(`${s.base}/outside/f.txt`), "OUTSIDE-F");
  } finally {
    await s.cleanup();
  }
});

Deno.test("hostMount refuses directory operations through a swapped-in symlink (race)", async () => {
  const s = await sandbox();
  try {
    const sub = lookupPath(s.root, "sub") as DirNode;
    await Deno.rename(`${s.m}/sub`, `${s.m}/sub_moved`);
    await Deno.symlink(`${s.base}/outside`, `${s.m}/sub`);
    assertFsError(() => sub.names(), "PERM");
    assertFsError(() => sub.lookup("secret.txt"), "PERM");
    assertFsError(() => sub.createFile("planted"), "PERM");
    assertFsError(() => sub.mkdir("planted_dir"), "PERM");
    assertFsError(() => sub.unlink("secret.txt"), "PERM");
    assertFsError(() => sub.rename("secret.txt", s.root, "stolen"), "PERM");
    assertFsError(() => sub.symlink("l", "x"), "PERM");
    const outside = [...Deno.readDirSync(`${s.base}/outside`)].map((e) => e.name).sort();
    assert.deepEqual(outside, ["f.txt", "secret.txt"]);
  } finally {
    await s.cleanup();
  }
});

Deno.test("hostMount refuses a file replaced by a symlink to an outside file (race)", async () => {
  const s = await sandbox();
  try {
    const node = lookupPath(s.root, "inside.txt") as VNode & { kind: "file" };
    await Deno.remove(`${s.m}/inside.txt`);
    await Deno.symlink(`${s.base}/outside/secret.txt`, `${s.m}/inside.txt`);
    assertFsError(() => node.open(false), "PERM");
  } finally {
    await s.cleanup();
  }
});

Deno.test("hostMount refuses hard links and renames across mounts (XDEV)", async () => {
  const s = await sandbox();
  const other = await Deno.makeTempDir({ prefix: "thaw-other-" });
  try {
    const o = hostMount(other);
    const f = lookupPath(s.root, "inside.txt");
    assertFsError(() => o.link("x", f), "XDEV");
    assertFsError(() => s.root.rename("inside.txt", o, "x"), "XDEV");
    const mem = new MemFs();
    assertFsError(() => mem.root.link("x", f), "XDEV");
    assertFsError(() => s.root.rename("inside.txt", mem.root, "x"), "XDEV");
  } finally {
    await s.cleanup();
    await Deno.remove(other, { recursive: true });
  }
});

Deno.test("hostMount names only single components to the host", async () => {
  const s = await sandbox();
  try {
    for (const bad of ["..", ".", "a/b", "", "x\0y"]) {
      assertFsError(() => s.root.lookup(bad), "PERM");
      assertFsError(() => s.root.createFile(bad), "PERM");
    }
  } finally {
    await s.cleanup();
  }
});

Deno.test("packageMount is read-only: every write answers ROFS", async () => {
  const s = await sandbox();
  try {
    const ro = packageMount(s.m);
    const f = lookupPath(ro, "inside.txt") as VNode & { kind: "file" };
    assertFsError(() => f.open(true), "ROFS");
    assertFsError(() => ro.createFile("new"), "ROFS");
    assertFsError(() => ro.mkdir("new"), "ROFS");
    assertFsError(() => ro.unlink("inside.txt"), "ROFS");
    assertFsError(() => ro.rmdir("sub"), "ROFS");
    assertFsError(() => ro.rename("inside.txt", ro, "moved"), "ROFS");
    assertFsError(() => ro.symlink("l", "inside.txt"), "ROFS");
    assertFsError(() => f.setTimes(0n, 0n), "ROFS");
    assert.equal(new TextDecoder().decode(readFileAt(ro, "inside.txt")), "inside");
    assert.ok(ro.readOnly);
  } finally {
    await s.cleanup();
  }
});

Deno.test("hostMount of a missing directory fails with NOENT", () => {
  assert.throws(
    () => hostMount("/nonexistent/thaw/dir"),
    (e: unknown) => e instanceof FsError && e.code === "NOENT",
  );
});

Deno.test("hostMount through a symlinked path confines to the real directory", async () => {
  const s = await sandbox();
  try {
    await Deno.symlink(s.m, `${s.base}/alias`);
    const root = hostMount(`${s.base}/alias`);
    assertFsError(() => readFileAt(root, "link_out_rel"), "PERM");
    assert.equal(new TextDecoder().decode(readFileAt(root, "inside.txt")), "inside");
  } finally {
    await s.cleanup();
  }
});

Deno.test("hostMount buffers small writes but every other access sees them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "thaw-wbuf-" });
  try {
    const root = hostMount(dir);
    const f = root.createFile("log");
    const w = f.open(true);
    const enc = new TextEncoder();
    for (let i = 0; i < 100; i++) w.pwrite(enc.encode("x"), i);
    // Another open description, a stat and a size all see the buffered bytes.
    assert.equal(f.stat().size, 100);
    const r = f.open(false);
    const buf = new Uint8Array(200);
    assert.equal(r.pread(buf, 0), 100);
    w.pwrite(enc.encode("yz"), 100);
    assert.equal(w.size(), 102);
    // After the guest yields, the host sees everything too.
    w.pwrite(enc.encode("!"), 102);
    await Promise.resolve();
    assert.equal((await Deno.readTextFile(`${dir}/log`)).length, 103);
    // Non-sequential and large writes are correct as well.
    w.pwrite(enc.encode("A"), 0);
    w.pwrite(new Uint8Array(10000).fill(66), 200);
    w.close();
    r.close();
    const text = await Deno.readTextFile(`${dir}/log`);
    assert.equal(text.length, 10200);
    assert.equal(text[0], "A");
    assert.equal(text[150], "\0");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hostMount read-ahead never serves bytes older than this mount's writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "thaw-rbuf-" });
  try {
    await Deno.writeFile(`${dir}/f`, new Uint8Array(100000).fill(1));
    const root = hostMount(dir);
    const f = lookupPath(root, "f") as VNode & { kind: "file" };
    const r = f.open(false);
    const w = f.open(true);
    const buf = new Uint8Array(4096);
    assert.equal(r.pread(buf, 0), 4096);
    w.pwrite(new Uint8Array(10).fill(7), 5000);
    assert.equal(r.pread(buf, 4096), 4096);
    assert.equal(buf[5000 - 4096], 7);
    w.truncate(70000);
    assert.equal(r.pread(buf, 68000), 2000);
    assert.equal(r.pread(buf, 70000), 0);
    // Sequential 4 KiB reads across the read-ahead boundary return every byte once.
    const all = new Uint8Array(70000);
    let off = 0;
    for (;;) {
      const n = r.pread(all.subarray(off, Math.min(off + 4096, all.length)), off);
      if (n === 0) break;
      off += n;
    }
    assert.equal(off, 70000);
    assert.equal(all[5005], 7);
    assert.equal(all[69999], 1);
    r.close();
    w.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
