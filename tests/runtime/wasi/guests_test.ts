/**
 * Runs every C guest of tests/guests under Thaw's WASI host and asserts it passes.
 *
 * Each guest prints "ok N - what" per check and exits 1 at the first failure, so a failing test
 * shows the guest's own "not ok" line. Guests named wasix_* belong to tests/runtime/wasix.
 */

import assert from "node:assert/strict";
import {
  GuestTrapError,
  type InstantiateOptions,
  loadModule,
  runModule,
} from "../../../runtime/instantiate/mod.ts";
import { MemFs } from "../../../runtime/vfs/mod.ts";
import { CollectOutput, importObject, Process, wasiImports } from "../../../runtime/wasi/mod.ts";
import { preopenTcpListener } from "../../../runtime/wasix/mod.ts";

const GUESTS = new URL("../../guests/", import.meta.url);
const WASM = new URL("wasm/", GUESTS);

/** The 46 wasi_snapshot_preview1 functions (witx, snapshot 1). */
const PREVIEW1 = [
  "args_get",
  "args_sizes_get",
  "environ_get",
  "environ_sizes_get",
  "clock_res_get",
  "clock_time_get",
  "fd_advise",
  "fd_allocate",
  "fd_close",
  "fd_datasync",
  "fd_fdstat_get",
  "fd_fdstat_set_flags",
  "fd_fdstat_set_rights",
  "fd_filestat_get",
  "fd_filestat_set_size",
  "fd_filestat_set_times",
  "fd_pread",
  "fd_prestat_get",
  "fd_prestat_dir_name",
  "fd_pwrite",
  "fd_read",
  "fd_readdir",
  "fd_renumber",
  "fd_seek",
  "fd_sync",
  "fd_tell",
  "fd_write",
  "path_create_directory",
  "path_filestat_get",
  "path_filestat_set_times",
  "path_link",
  "path_open",
  "path_readlink",
  "path_remove_directory",
  "path_rename",
  "path_symlink",
  "path_unlink_file",
  "poll_oneoff",
  "proc_exit",
  "proc_raise",
  "sched_yield",
  "random_get",
  "sock_accept",
  "sock_recv",
  "sock_send",
  "sock_shutdown",
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: unknown;
}

interface RunOptions {
  args?: string[];
  env?: Record<string, string>;
  stdin?: string;
  /** Runs before the guest with the temporary root (the sandbox is root/sandbox). */
  prepare?: (root: string) => void;
  /** Extra instantiate options. */
  extra?: (root: string) => Partial<InstantiateOptions>;
}

const decoder = new TextDecoder();

/** Runs guest `name` with root/sandbox preopened as /sandbox; returns its status and output. */
async function runGuest(name: string, options: RunOptions = {}): Promise<Run & { root: string }> {
  const root = Deno.makeTempDirSync({ prefix: `thaw-guest-${name}-` });
  Deno.mkdirSync(`${root}/sandbox`);
  options.prepare?.(root);
  const out: string[] = [];
  const err: string[] = [];
  const module = await loadModule(new URL(`${name}.wasm`, WASM).pathname);
  const run: Run & { root: string } = { code: null, stdout: "", stderr: "", root };
  try {
    run.code = await runModule(module, {
      args: [`${name}.wasm`, ...(options.args ?? [])],
      env: options.env ?? {},
      dirs: [{ host: `${root}/sandbox`, guest: "/sandbox" }],
      stdin: options.stdin ?? "null",
      stdout: (chunk) => out.push(decoder.decode(chunk, { stream: true })),
      stderr: (chunk) => err.push(decoder.decode(chunk, { stream: true })),
      ...options.extra?.(root),
    });
  } catch (e) {
    run.error = e;
  }
  run.stdout = out.join("");
  run.stderr = err.join("");
  return run;
}

/** Asserts that a self-checking guest ran every check and exited 0. */
function assertPassed(name: string, run: Run): void {
  const failed = run.stdout.split("\n").find((l) => l.startsWith("not ok"));
  const context = `${name}: ${failed ?? "no failing check"}\n--- stdout (tail)\n` +
    run.stdout.split("\n").slice(-15).join("\n") + `\n--- stderr\n${run.stderr}` +
    (run.error ? `\n--- error\n${run.error}` : "");
  assert.equal(run.error, undefined, context);
  assert.equal(failed, undefined, context);
  assert.equal(run.code, 0, context);
  assert.match(run.stdout, /\ndone \d+ checks\n$/, context);
}

function cleanup(run: { root: string }): void {
  Deno.removeSync(run.root, { recursive: true });
}

const SELF_CHECKING: Record<string, RunOptions> = {
  args_env: {
    args: ["alpha", "beta gamma", "ünï", ""],
    env: { THAW_A: "1", THAW_EMPTY: "", THAW_EQ: "x=y", HOME: "/" },
  },
  clock: {},
  random: {},
  fd: {},
  path: {},
  dir: {},
  link: {},
  poll: {},
  proc: {},
  sock: {},
  // Ports of wasmtime's preview1 test programs (docs/wasi.md, "Conformance").
  conformance_paths: {},
  conformance_files: {},
  conformance_dirs: {},
  conformance_meta: {},
  conformance_misc: {},
};

for (const [name, options] of Object.entries(SELF_CHECKING)) {
  Deno.test(`guest ${name} passes every check`, async () => {
    const run = await runGuest(name, options);
    try {
      assertPassed(name, run);
    } finally {
      cleanup(run);
    }
  });
}

Deno.test("the wasmtime conformance guests also pass on MemFs", async () => {
  for (const name of Object.keys(SELF_CHECKING).filter((n) => n.startsWith("conformance_"))) {
    const fs = new MemFs();
    fs.mkdirp("/sb");
    const stdout = new CollectOutput();
    const proc = new Process({
      args: [`${name}.wasm`],
      fs,
      stdout,
      preopens: [{ guestPath: "/sandbox", path: "/sb" }],
    });
    const module = await loadModule(new URL(`${name}.wasm`, WASM).pathname);
    const instance = await WebAssembly.instantiate(module, importObject(proc));
    const code = await proc.start(instance);
    assertPassed(`${name} (MemFs)`, { code, stdout: stdout.text(), stderr: "" });
  }
});

/** Builds wasi-testsuite's fixture directory (see tests/guests/conformance_testsuite.c). */
function makeTestsuiteFixture(dir: string): void {
  Deno.mkdirSync(`${dir}/fopendir.dir`, { recursive: true });
  Deno.mkdirSync(`${dir}/writeable`);
  Deno.writeTextFileSync(`${dir}/file`, "file");
  Deno.writeTextFileSync(`${dir}/lseek.txt`, "01234567");
  Deno.writeTextFileSync(`${dir}/pread.txt`, "pread-test");
  Deno.writeTextFileSync(`${dir}/fopendir.dir/file-0`, "");
  Deno.writeTextFileSync(`${dir}/fopendir.dir/file-1`, "");
}

Deno.test("guest conformance_testsuite: wasi-testsuite's C tests pass with the fixture as /", async () => {
  const run = await runGuest("conformance_testsuite", {
    prepare: (root) => makeTestsuiteFixture(`${root}/sandbox`),
    extra: (root) => ({ dirs: [{ host: `${root}/sandbox`, guest: "/" }] }),
  });
  try {
    assertPassed("conformance_testsuite", run);
    // The tests clean up after themselves (the suite deletes *.cleanup files anyway).
    assert.deepEqual([...Deno.readDirSync(`${run.root}/sandbox/writeable`)], []);
  } finally {
    cleanup(run);
  }
});

/** Lists every path under `dir` (not following links) with file contents and link targets. */
function listTree(dir: string, skip: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of Deno.readDirSync(d)) {
      const path = `${d}/${e.name}`;
      const key = `${rel}${e.name}`;
      if (path === skip) continue;
      if (e.isSymlink) out[key] = `link -> ${Deno.readLinkSync(path)}`;
      else if (e.isDirectory) {
        out[key] = "dir";
        walk(path, `${key}/`);
      } else out[key] = `file ${Deno.readTextFileSync(path)}`;
    }
  };
  walk(dir, "");
  return out;
}

Deno.test("guest escape: every escape attempt is refused and nothing outside changes", async () => {
  const prepare = (root: string) => {
    Deno.writeTextFileSync(`${root}/secret.txt`, "TOP SECRET\n");
    Deno.mkdirSync(`${root}/emptydir`);
    Deno.symlinkSync("secret.txt", `${root}/outlink`);
  };
  let before: Record<string, string> = {};
  const run = await runGuest("escape", {
    prepare: (root) => {
      prepare(root);
      before = listTree(root, `${root}/sandbox`);
    },
  });
  try {
    assertPassed("escape", run);
    const refused = Number(/# (\d+) escape attempts refused/.exec(run.stdout)?.[1]);
    assert.ok(refused >= 20, `only ${refused} escape attempts`);
    assert.deepEqual(listTree(run.root, `${run.root}/sandbox`), before);
    assert.doesNotMatch(run.stdout, /TOP SECRET/);
  } finally {
    cleanup(run);
  }
});

Deno.test("guest proc: proc_exit(42) ends the process with status 42 after flushing stdio", async () => {
  const run = await runGuest("proc", { args: ["exit", "42"] });
  cleanup(run);
  assert.equal(run.error, undefined);
  assert.equal(run.code, 42);
  assert.equal(run.stdout, "out\n");
  assert.equal(run.stderr, "err\n");
});

Deno.test("guest proc: a trap surfaces as GuestTrapError naming the trap", async () => {
  const run = await runGuest("proc", { args: ["trap"] });
  cleanup(run);
  assert.ok(run.error instanceof GuestTrapError, String(run.error));
  assert.match(run.error.message, /unreachable/);
  assert.equal(run.stdout, "before trap\n");
});

Deno.test("guest proc: stdin reaches the guest and its copy comes back on stdout", async () => {
  const text = "line one\nline two\n" + "x".repeat(10000) + "\n";
  const run = await runGuest("proc", { args: ["echo"], stdin: text });
  cleanup(run);
  assert.equal(run.error, undefined);
  assert.equal(run.code, 0);
  assert.equal(run.stdout, text);
  assert.equal(run.stderr, `${new TextEncoder().encode(text).length} bytes\n`);
});

Deno.test("guest proc: argv and environment arrive intact", async () => {
  const run = await runGuest("proc", {
    args: ["args", "a b", "", "ünï"],
    env: { ONE: "1", EMPTY: "" },
  });
  cleanup(run);
  assert.equal(run.stdout, "5\nproc.wasm\nargs\na b\n\nünï\n");
  const env = await runGuest("proc", {
    args: ["env", "ONE", "EMPTY", "MISSING"],
    env: { ONE: "1", EMPTY: "" },
  });
  cleanup(env);
  assert.equal(env.stdout, "ONE=1\nEMPTY=\nMISSING unset\n");
});

Deno.test("guest sock: serves real TCP clients on a --tcplisten socket", async () => {
  let port = 0;
  const running = runGuest("sock", {
    args: ["serve", "2"],
    env: { LISTEN_FDS: "1" },
    extra: () => ({
      setup: (proc) => {
        port = preopenTcpListener(proc, "127.0.0.1:0").address.port;
      },
    }),
  });
  // The listener exists once setup ran; wait for it.
  for (let i = 0; i < 200 && port === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.notEqual(port, 0);
  const clients = (async () => {
    for (const word of ["hello", "thaw"]) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode(`${word}\n`));
      const reply = await new Response(conn.readable).text();
      assert.equal(reply, `${word.toUpperCase()}\n`);
    }
  })();
  // A guest that exits early must fail the test, not leave the clients waiting.
  const first = await Promise.race([clients.then(() => null), running]);
  if (first !== null) {
    // The guest ended first: it must have passed, and then the clients finish too.
    cleanup(first);
    assertPassed("sock serve", first);
    await clients;
    return;
  }
  const run = await running;
  cleanup(run);
  assertPassed("sock serve", run);
});

Deno.test("guests notice a host that answers wrongly (the checks can fail)", async () => {
  // fd_tell claims success without writing the position; path_open answers NOENT to everything
  // (so escapes are not refused with PERM and setup opens fail).
  const lying = (name: string, liar: Record<string, unknown>) =>
    runGuest(name, {
      extra: () => ({
        imports: (proc) => ({
          wasi_snapshot_preview1: { ...wasiImports(proc), ...liar } as WebAssembly.ModuleImports,
        }),
      }),
    });
  const fd = await lying("fd", { fd_tell: () => 0 });
  cleanup(fd);
  assert.equal(fd.code, 1);
  assert.match(fd.stdout, /\nnot ok \d+ - position is 12: condition false/);
  const escape = await lying("escape", {
    path_open: (...a: number[]) => a[3] >= 3 ? 44 : 0,
  });
  cleanup(escape);
  assert.equal(escape.code, 1);
  assert.match(escape.stdout, /not ok \d+ - /);
});

Deno.test("the guests together call all 46 preview1 functions", () => {
  const used = new Set<string>();
  for (const e of Deno.readDirSync(GUESTS)) {
    if (!e.name.endsWith(".c") || e.name.startsWith("wasix_")) continue;
    const src = Deno.readTextFileSync(new URL(e.name, GUESTS));
    for (const m of src.matchAll(/__wasi_([a-z_]+)\(/g)) used.add(m[1]);
    for (const m of src.matchAll(/import_name\("([a-z_]+)"\)/g)) used.add(m[1]);
  }
  const missing = PREVIEW1.filter((n) => !used.has(n));
  assert.equal(PREVIEW1.length, 46);
  assert.deepEqual(missing, []);
});

Deno.test("every guest run here has its source and a built fixture", () => {
  for (const name of [...Object.keys(SELF_CHECKING), "escape", "conformance_testsuite"]) {
    assert.ok(Deno.statSync(new URL(`${name}.c`, GUESTS)).isFile);
    const wasm = new URL(`${name}.wasm`, WASM);
    assert.ok(
      Deno.statSync(wasm).isFile,
      `${name}.c has no fixture; run bash tests/guests/build.sh`,
    );
  }
});
