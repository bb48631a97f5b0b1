/**
 * `thaw run` as a user runs it: a subprocess, checked on exit status, stdout and stderr.
 */

import assert from "node:assert/strict";
import { parseRunArgs, RunUsageError } from "../../cli/run.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const PROC = `${ROOT}tests/guests/wasm/proc.wasm`;
const SOCK = `${ROOT}tests/guests/wasm/sock.wasm`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function thaw(
  args: string[],
  stdin = "",
  env: Record<string, string> = {},
  cwd?: string,
): Promise<Result> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}cli/main.ts`, "run", ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env,
    cwd,
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** One line on stderr, starting "thaw run: ", and no host stack trace. */
function assertOneLineError(r: Result, pattern: RegExp): void {
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^thaw run: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\.ts:\d+/);
}

/** A minimal module: one function type, one import `mod.name`, nothing else. */
function moduleImporting(mod: string, name: string): Uint8Array {
  const enc = new TextEncoder();
  const m = enc.encode(mod);
  const n = enc.encode(name);
  const body = [1, m.length, ...m, n.length, ...n, 0x00, 0x00];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version
    0x01,
    0x04,
    0x01,
    0x60,
    0x00,
    0x00, // type section: () -> ()
    0x02,
    body.length,
    ...body, // import section
  ]);
}

Deno.test("thaw run: argv[0] is the module's file name and later flags belong to the guest", async () => {
  const r = await thaw([PROC, "args", "--dir", "x y", "-h"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "5\nproc.wasm\nargs\n--dir\nx y\n-h\n");
});

Deno.test("thaw run: -- ends Thaw's options", async () => {
  const r = await thaw(["--", PROC, "args"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "2\nproc.wasm\nargs\n");
});

Deno.test("thaw run: the exit status is the guest's proc_exit code", async () => {
  const r = await thaw([PROC, "exit", "42"]);
  assert.equal(r.code, 42);
  assert.equal(r.stdout, "out\n");
  assert.equal(r.stderr, "err\n");
  assert.equal((await thaw([PROC, "exit", "0"])).code, 0);
  assert.equal((await thaw([PROC, "exit", "255"])).code, 255);
});

Deno.test("thaw run: a self-checking guest exits 0 with proc_exit(0)", async () => {
  const r = await thaw([PROC]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\ndone \d+ checks\n$/);
});

Deno.test("thaw run: a trap exits 134 with the trap message and no host stack trace", async () => {
  const r = await thaw([PROC, "trap"]);
  assert.equal(r.code, 134);
  assert.equal(r.stdout, "before trap\n");
  assert.match(r.stderr, /^thaw run: proc\.wasm: wasm trap: unreachable/);
  assert.doesNotMatch(r.stderr, /\.ts:\d+/);
});

Deno.test("thaw run: running out of stack, in linear memory or in the engine, is a trap", async () => {
  const shadow = await thaw([PROC, "overflow"]);
  assert.equal(shadow.code, 134);
  assert.equal(shadow.stdout, "before overflow\n");
  assert.match(shadow.stderr, /^thaw run: proc\.wasm: wasm trap: memory access out of bounds/);
  const native = await thaw([PROC, "deep"]);
  assert.equal(native.code, 134);
  assert.equal(native.stdout, "before deep recursion\n");
  assert.match(native.stderr, /^thaw run: proc\.wasm: wasm trap: call stack exhausted\n/);
  assert.match(native.stderr, /at recurse_native/);
  assert.doesNotMatch(native.stderr, /\.ts:\d+/);
});

Deno.test("thaw run: stdin is the process's stdin", async () => {
  const text = "first\nsecond ünï\n".repeat(1000);
  const r = await thaw([PROC, "echo"], text);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, text);
  assert.equal(r.stderr, `${new TextEncoder().encode(text).length} bytes\n`);
});

Deno.test("thaw run: --dir HOST::GUEST and --dir HOST preopen host directories", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/in.txt`, "from the host\n");
    const r = await thaw(["--dir", `${dir}::/data`, PROC, "cat", "/data/in.txt"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "from the host\n");
    const w = await thaw(["--dir", dir, PROC, "write", `${dir}/out.txt`, "written"]);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(Deno.readTextFileSync(`${dir}/out.txt`), "written");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("thaw run: a guest cannot read above its --dir", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/box`);
    Deno.writeTextFileSync(`${dir}/secret.txt`, "TOP SECRET\n");
    const r = await thaw(["--dir", `${dir}/box::/data`, PROC, "cat", "/data/../secret.txt"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^cat: \/data\/\.\.\/secret\.txt: /);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("thaw run: --env sets variables, NAME alone copies the host's, nothing else leaks", async () => {
  const r = await thaw(
    [
      "--env",
      "A=1",
      "--env",
      "EQ=x=y",
      "--env",
      "FROM_HOST",
      PROC,
      "env",
      "A",
      "EQ",
      "FROM_HOST",
      "SECRET",
    ],
    "",
    { FROM_HOST: "inherited", SECRET: "hidden" },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "A=1\nEQ=x=y\nFROM_HOST=inherited\nSECRET unset\n");
});

Deno.test("thaw run: a missing module exits 1 with one line", async () => {
  assertOneLineError(await thaw(["no/such/module.wasm"]), /no\/such\/module\.wasm: no such file/);
});

Deno.test("thaw run: invalid and truncated modules exit 1 with one line", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/text.wasm`, "hello, not wasm\n");
    assertOneLineError(
      await thaw([`${dir}/text.wasm`]),
      /not a valid WebAssembly module: expected magic/,
    );
    const bytes = Deno.readFileSync(PROC);
    Deno.writeFileSync(`${dir}/cut.wasm`, bytes.subarray(0, bytes.length >> 1));
    assertOneLineError(
      await thaw([`${dir}/cut.wasm`]),
      /cut\.wasm is not a valid WebAssembly module/,
    );
    Deno.writeFileSync(`${dir}/empty.wasm`, new Uint8Array());
    assertOneLineError(await thaw([`${dir}/empty.wasm`]), /empty/);
    assertOneLineError(await thaw([dir]), /is a directory/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("thaw run: an unknown import exits 1 naming its module and name", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeFileSync(`${dir}/env.wasm`, moduleImporting("env", "emscripten_thing"));
    assertOneLineError(
      await thaw([`${dir}/env.wasm`]),
      /imports env\.emscripten_thing \(function\)/,
    );
    Deno.writeFileSync(`${dir}/p1.wasm`, moduleImporting("wasi_snapshot_preview1", "fd_bogus"));
    assertOneLineError(
      await thaw([`${dir}/p1.wasm`]),
      /imports wasi_snapshot_preview1\.fd_bogus \(function\), which Thaw does not provide/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("thaw run: a module without _start exits 1 with one line", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeFileSync(`${dir}/lib.wasm`, new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    assertOneLineError(await thaw([`${dir}/lib.wasm`]), /no _start export/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("thaw run: usage errors exit 2 with one line", async () => {
  assertOneLineError(await thaw(["--bogus", PROC]), /Unknown option '--bogus'/);
  assertOneLineError(await thaw([]), /No module given/);
  assertOneLineError(await thaw(["--dir"]), /--dir/);
  assert.equal((await thaw(["--bogus", PROC])).code, 2);
  assertOneLineError(await thaw(["--dir", "/no/such/dir", PROC]), /no such directory/);
  const help = await thaw(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: thaw run/);
});

Deno.test("thaw run: --tcplisten hands the guest a real listening socket", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}cli/main.ts`,
      "run",
      "--tcplisten",
      `127.0.0.1:${port}`,
      SOCK,
      "serve",
      "1",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let conn: Deno.TcpConn | null = null;
  for (let i = 0; i < 200 && conn === null; i++) {
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  assert.ok(conn !== null, "could not connect to the guest's socket");
  await conn.write(new TextEncoder().encode("over tcp\n"));
  assert.equal(await new Response(conn.readable).text(), "OVER TCP\n");
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, stdout + new TextDecoder().decode(out.stderr));
  assert.match(stdout, /ok \d+ - LISTEN_FDS is 1/);
});

Deno.test("thaw run: a taken --tcplisten port exits 1 with one line", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    assertOneLineError(await thaw(["--tcplisten", `127.0.0.1:${port}`, SOCK]), /--tcplisten/);
    assertOneLineError(await thaw(["--tcplisten", "nonsense", SOCK]), /--tcplisten/);
  } finally {
    taken.close();
  }
});

Deno.test("parseRunArgs() splits Thaw's flags from the guest's at the module", () => {
  const r = parseRunArgs(["--dir", "a::/b", "--dir", "c", "--env", "X=1", "m.wasm", "--env", "Y"]);
  assert.deepEqual(r.dirs, [{ host: "a", guest: "/b" }, { host: "c", guest: "c" }]);
  assert.deepEqual(r.env, { X: "1" });
  assert.equal(r.module, "m.wasm");
  assert.deepEqual(r.args, ["--env", "Y"]);
  assert.deepEqual(parseRunArgs(["--tcplisten=127.0.0.1:1", "m.wasm"]).env, { LISTEN_FDS: "1" });
  assert.throws(() => parseRunArgs(["--dir", "::/x", "m.wasm"]), RunUsageError);
  assert.throws(() => parseRunArgs(["--env", "=1", "m.wasm"]), RunUsageError);
  assert.deepEqual(parseRunArgs(["--env", "H", "m.wasm"], () => "v").env, { H: "v" });
  assert.deepEqual(parseRunArgs(["--env", "H", "m.wasm"], () => undefined).env, {});
});

/** wasi-testsuite's fixture directory (see tests/guests/conformance_testsuite.c). */
function testsuiteFixture(): string {
  const base = Deno.makeTempDirSync({ prefix: "thaw-testsuite-" });
  const dir = `${base}/fs-tests.dir`;
  Deno.mkdirSync(`${dir}/fopendir.dir`, { recursive: true });
  Deno.mkdirSync(`${dir}/writeable`);
  Deno.writeTextFileSync(`${dir}/file`, "file");
  Deno.writeTextFileSync(`${dir}/lseek.txt`, "01234567");
  Deno.writeTextFileSync(`${dir}/pread.txt`, "pread-test");
  Deno.writeTextFileSync(`${dir}/fopendir.dir/file-0`, "");
  Deno.writeTextFileSync(`${dir}/fopendir.dir/file-1`, "");
  return base;
}

const SUITE = `${ROOT}tests/guests/wasm/conformance_testsuite.wasm`;

Deno.test("thaw run: accepts the command lines of wasi-testsuite's wasmtime adapter", async () => {
  const base = testsuiteFixture();
  try {
    // Current adapter: --env K=V, then --dir HOST::GUEST, then the module and its args.
    // "root" layout: the fixture is the guest's "/".
    for (const test of ["lseek", "fdopendir-with-access", "pwrite-with-append", "stat-dev-ino"]) {
      const r = await thaw(["--env", "A=1", "--dir", `${base}/fs-tests.dir::/`, SUITE, test]);
      assert.equal(r.code, 0, `${test}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /\ndone \d+ checks\n$/);
    }
    // "dirs" layout: an absolute host path mapped to a relative guest name.
    const rel = await thaw([
      "--env",
      "PREFIX=fs-tests.dir/",
      "--dir",
      `${base}/fs-tests.dir::fs-tests.dir`,
      SUITE,
      "all",
    ]);
    assert.equal(rel.code, 0, rel.stdout + rel.stderr);
    // Older adapters: --dir with a relative host path, seen under the same name, run from the
    // test directory; and --dir=VALUE.
    const old = await thaw(
      ["--env=PREFIX=fs-tests.dir/", "--dir=fs-tests.dir", SUITE, "all"],
      "",
      {},
      base,
    );
    assert.equal(old.code, 0, old.stdout + old.stderr);
    // No --dir at all.
    const none = await thaw([SUITE, "fopen-with-no-access"]);
    assert.equal(none.code, 0, none.stdout + none.stderr);
    // The suite compares exit codes: the guest's status reaches it (2: unknown test name).
    const bad = await thaw(["--dir", `${base}/fs-tests.dir::/`, SUITE, "no-such-test"]);
    assert.equal(bad.code, 2);
    assert.deepEqual([...Deno.readDirSync(`${base}/fs-tests.dir/writeable`)], []);
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
});
