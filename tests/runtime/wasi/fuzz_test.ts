// Random arguments to every syscall must never crash the host: each call answers an errno (or a
// Promise of one, or ProcExit for proc_exit), whatever the pointers and lengths.
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProcExit, wasiSyscalls } from "../../../runtime/wasi/mod.ts";
import { buildImports } from "../../../runtime/wasi/mod.ts";
import { Harness } from "./_harness.ts";

const i32 = fc.oneof(
  fc.integer({ min: -2147483648, max: 2147483647 }),
  fc.integer({ min: 0, max: 4 * 65536 + 16 }),
  fc.constantFrom(0, 1, 2, 3, 4, 8, 24, 64, 65536 * 4 - 8, -1),
);
const i64 = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(0n, 1n, 1000n, -1n),
);

Deno.test({
  name: "every syscall answers random arguments with an errno, never a host exception",
  sanitizeOps: false,
  sanitizeResources: false,
  fn() {
    const h = new Harness();
    h.fs.writeFile("f.txt", "content");
    h.fs.mkdirp("d/e");
    h.fs.symlink("l", "f.txt");
    const names = Object.keys(wasiSyscalls(h.proc)).filter((n) => n !== "poll_oneoff");
    // Arity per import: preview1 signatures with i64 positions.
    const sig: Record<string, string> = {
      clock_time_get: "iIi",
      fd_advise: "iIIi",
      fd_allocate: "iII",
      fd_fdstat_set_rights: "iII",
      fd_filestat_set_size: "iI",
      fd_filestat_set_times: "iIIi",
      fd_pread: "iiiIi",
      fd_pwrite: "iiiIi",
      fd_readdir: "iiiIi",
      fd_seek: "iIii",
      path_filestat_set_times: "iiiiIIi",
      path_open: "iiiiiIIii",
    };
    const sys = buildImports(wasiSyscalls(h.proc), new Set(), { jspi: false });
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.array(fc.tuple(i32, i64), { minLength: 9, maxLength: 9 }),
        (name, raw) => {
          const shape = sig[name] ?? "iiiiiiiii";
          const args = [...shape].map((c, k) => (c === "I" ? raw[k][1] : raw[k][0]));
          try {
            const r = (sys[name] as (...a: unknown[]) => unknown)(...args);
            if (r instanceof Promise) return true;
            assert.equal(typeof r, "number", `${name} returned ${String(r)}`);
            assert.ok((r as number) >= 0 && (r as number) <= 76, `${name} returned ${r}`);
          } catch (e) {
            if (name === "proc_exit" && e instanceof ProcExit) return true;
            throw e;
          }
          return true;
        },
      ),
      { numRuns: 20000 },
    );
  },
});
