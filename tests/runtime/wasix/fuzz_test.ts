/**
 * Every WASIX call, with random arguments, answers an errno (or blocks/unwinds): no call ever
 * throws into the host, whatever the guest passes.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Process, ProcExit, UNWIND } from "../../../runtime/wasi/mod.ts";
import { VirtualNetwork } from "../../../runtime/vnet/mod.ts";
import { wasixImports, wasixSyscalls } from "../../../runtime/wasix/mod.ts";

/** Parameter positions that are i64 (BigInt from Wasm), per call. */
const I64: Record<string, number[]> = {
  fd_event: [0],
  sock_set_opt_size: [2],
  thread_sleep: [0],
  epoll_wait: [3],
  sock_send_file: [2, 3],
  clock_time_set: [1],
  stack_restore: [1],
  proc_raise_interval: [1],
  path_open2: [5, 6],
};

Deno.test("WASIX calls answer errnos for any arguments", () => {
  const proc = new Process({ jspi: false });
  proc.mem.bind(new WebAssembly.Memory({ initial: 1 }));
  proc.blockHook = () => "unwind"; // never actually wait
  const imports = wasixImports(proc, { net: new VirtualNetwork() }) as Record<
    string,
    // deno-lint-ignore no-explicit-any
    (...a: any[]) => unknown
  >;
  // The WASIX calls (the preview1 ones in the same namespace are runtime/wasi's to fuzz).
  const names = Object.keys(wasixSyscalls(proc));
  // Small fds and small in-bounds or edge pointers hit real code paths more often than uniform ints.
  const arg = fc.oneof(
    fc.integer({ min: 0, max: 12 }),
    fc.integer({ min: 0, max: 65535 }),
    fc.constantFrom(-1, 0x7fffffff, -16, 65530, 65536),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...names),
      fc.array(arg, { minLength: 8, maxLength: 8 }),
      (name, args) => {
        const call = args.map((a, i) => (I64[name]?.includes(i) ? BigInt(a) : a));
        let r: unknown;
        try {
          r = imports[name](...call);
        } catch (e) {
          if (e instanceof ProcExit) return true; // thread_exit / proc_exec end the process
          throw new Error(`${name}(${call.join(", ")}) threw ${e}`);
        }
        if (r instanceof Promise) {
          r.catch(() => {}); // a started wait; the hook said unwind, so this should not happen
          return false;
        }
        return typeof r === "number" || r === UNWIND || r === undefined;
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(proc.fds.size >= 3);
});
