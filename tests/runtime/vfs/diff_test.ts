// Property: for any sequence of operations, replaying listChanges() on a fresh copy of the base
// rebuilds exactly the same tree (contents, symlinks, hard links, times of files).
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  applyChanges,
  type DirNode,
  listChanges,
  lookupPath,
  MemFs,
  overlay,
  resolve,
} from "../../../runtime/vfs/mod.ts";

const NAMES = ["a", "b", "c", "d/e", "d/f", "g/h/i", "d", "g"];

const op = fc.oneof(
  fc.record({
    k: fc.constant("write"),
    p: fc.constantFrom(...NAMES),
    off: fc.nat(9000),
    len: fc.nat(300),
    byte: fc.nat(255),
  }),
  fc.record({ k: fc.constant("mkdir"), p: fc.constantFrom(...NAMES) }),
  fc.record({ k: fc.constant("unlink"), p: fc.constantFrom(...NAMES) }),
  fc.record({ k: fc.constant("rmdir"), p: fc.constantFrom(...NAMES) }),
  fc.record({
    k: fc.constant("rename"),
    p: fc.constantFrom(...NAMES),
    q: fc.constantFrom(...NAMES),
  }),
  fc.record({
    k: fc.constant("symlink"),
    p: fc.constantFrom(...NAMES),
    q: fc.constantFrom(...NAMES),
  }),
  fc.record({ k: fc.constant("link"), p: fc.constantFrom(...NAMES), q: fc.constantFrom(...NAMES) }),
  fc.record({ k: fc.constant("truncate"), p: fc.constantFrom(...NAMES), len: fc.nat(9000) }),
  fc.record({
    k: fc.constant("times"),
    p: fc.constantFrom(...NAMES),
    t: fc.bigInt({ min: 0n, max: 2n ** 62n }),
  }),
);
type Op = {
  k: string;
  p: string;
  q?: string;
  off?: number;
  len?: number;
  byte?: number;
  t?: bigint;
};

function apply(root: DirNode, o: Op): void {
  try {
    const r = resolve(root, o.p, false);
    switch (o.k) {
      case "write": {
        const f = r.node ?? r.dir.createFile(r.name);
        if (f.kind !== "file") return;
        const io = f.open(true);
        io.pwrite(new Uint8Array(o.len!).fill(o.byte!), o.off!);
        break;
      }
      case "mkdir":
        r.dir.mkdir(r.name);
        break;
      case "unlink":
        r.dir.unlink(r.name);
        break;
      case "rmdir":
        r.dir.rmdir(r.name);
        break;
      case "rename": {
        const t = resolve(root, o.q!, false);
        r.dir.rename(r.name, t.dir, t.name);
        break;
      }
      case "symlink":
        r.dir.symlink(r.name, o.q!);
        break;
      case "link": {
        const t = resolve(root, o.q!, false);
        if (r.node) t.dir.link(t.name, r.node);
        break;
      }
      case "truncate":
        if (r.node?.kind === "file") r.node.open(true).truncate(o.len!);
        break;
      case "times":
        if (r.node?.kind === "file") r.node.setTimes(o.t!, o.t! + 1n);
        break;
    }
  } catch {
    // Invalid operations (missing parents, EXIST, ...) are part of the random mix.
  }
}

/** A canonical dump of a tree: path -> description; hard links by first path. */
function dump(root: DirNode): Record<string, string> {
  const out: Record<string, string> = {};
  const seen = new Map<unknown, string>();
  const walk = (dir: DirNode, prefix: string) => {
    for (const name of [...dir.names()].sort()) {
      const p = prefix + name;
      const n = dir.lookup(name)!;
      if (n.kind === "dir") {
        out[p] = "dir";
        walk(n, p + "/");
      } else if (n.kind === "symlink") out[p] = `-> ${n.readlink()}`;
      else {
        const first = seen.get(n);
        const st = n.stat();
        const io = n.open(false);
        const buf = new Uint8Array(io.size());
        io.pread(buf, 0);
        out[p] = `file ${buf.length} ${buf.reduce((h, b) => (h * 31 + b) >>> 0, 7)} m${st.mtim}` +
          (first ? ` =${first}` : "");
        if (!first) seen.set(n, p);
      }
    }
  };
  walk(root, "");
  return out;
}

function base(): MemFs {
  const fs = new MemFs();
  fs.writeFile("a", new Uint8Array(5000).fill(1));
  fs.writeFile("d/e", "e");
  fs.writeFile("g/h/x", "x");
  fs.symlink("d/f", "../a");
  for (const p of ["a", "d/e", "g/h/x"]) lookupPath(fs.root, p).setTimes(1n, 2n);
  return fs;
}

Deno.test("listChanges() + applyChanges() rebuild an overlay after random operations", () => {
  const lower = base();
  fc.assert(
    fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
      const fs = overlay(lower.root);
      for (const o of ops) apply(fs.root, o as Op);
      const changes = listChanges(fs.root);
      const fresh = overlay(lower.root);
      applyChanges(fresh.root, changes);
      const a = dump(fs.root);
      const b = dump(fresh.root);
      // Hard-link identity is only kept among files created after boot; compare contents.
      const strip = (d: Record<string, string>) =>
        Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.replace(/ =.*$/, "")]));
      assert.deepEqual(strip(b), strip(a));
      // The base is never modified.
      assert.deepEqual(dump(lower.root), dump(base().root));
    }),
    { numRuns: 300 },
  );
});

Deno.test("listChanges() + applyChanges() rebuild a MemFs after random operations", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
      const fs = new MemFs();
      for (const o of ops) apply(fs.root, o as Op);
      const fresh = new MemFs();
      applyChanges(fresh.root, listChanges(fs.root));
      const strip = (d: Record<string, string>) =>
        Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.replace(/ =.*$/, "")]));
      assert.deepEqual(strip(dump(fresh.root)), strip(dump(fs.root)));
    }),
    { numRuns: 300 },
  );
});
