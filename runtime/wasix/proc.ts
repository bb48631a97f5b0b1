/**
 * WASIX process calls: `getcwd`, `chdir`, `proc_id`, `proc_parent`, `proc_snapshot`.
 *
 * @module
 */

import { lookupPath, stripSlash } from "../vfs/mod.ts";
import {
  ERRNO_NOTDIR,
  ERRNO_OVERFLOW,
  ERRNO_SRCH,
  type Process,
  type SyscallResult,
  type SyscallTable,
  UNWIND,
} from "../wasi/mod.ts";
import { fail } from "./_errno.ts";
import { wasixState } from "./_state.ts";

const encoder = new TextEncoder();

/** Joins `path` onto the absolute `cwd` and normalizes `.` and `..`. */
export function resolvePath(cwd: string, path: string): string {
  const parts: string[] = [];
  for (const seg of (path.startsWith("/") ? path : `${cwd}/${path}`).split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join("/")}`;
}

/** Imports of this family that may suspend the guest. */
export const PROC_BLOCKING = ["proc_snapshot"];

/** The process family. */
export function procSyscalls(proc: Process): SyscallTable {
  const state = () => wasixState(proc);
  return {
    getcwd(pathPtr: number, lenPtr: number) {
      const cap = proc.mem.getU32(lenPtr);
      proc.mem.view(pathPtr, cap);
      const bytes = encoder.encode(proc.cwd);
      if (bytes.byteLength > cap) {
        proc.mem.setU32(lenPtr, bytes.byteLength);
        fail(ERRNO_OVERFLOW, `The working directory needs ${bytes.byteLength} bytes`);
      }
      proc.mem.write(pathPtr, bytes);
      if (bytes.byteLength < cap) proc.mem.setU8((pathPtr >>> 0) + bytes.byteLength, 0);
      proc.mem.setU32(lenPtr, bytes.byteLength);
      return 0;
    },

    chdir(pathPtr: number, pathLen: number) {
      const target = resolvePath(proc.cwd, proc.mem.readString(pathPtr, pathLen));
      const clean = stripSlash(target);
      const node = clean === "" ? proc.fs.root : lookupPath(proc.fs.root, clean, true);
      if (node.kind !== "dir") fail(ERRNO_NOTDIR, `${target} is not a directory`);
      proc.cwd = target;
      return 0;
    },

    proc_id(roPid: number) {
      proc.mem.setU32(roPid, state().pid);
      return 0;
    },

    proc_parent(pid: number, roPid: number) {
      if (pid >>> 0 !== state().pid) fail(ERRNO_SRCH, `No process ${pid >>> 0}`);
      proc.mem.setU32(roPid, 0);
      return 0;
    },

    // An explicit instaboot point: the snapshot hook may unwind here; otherwise nothing happens.
    proc_snapshot(): SyscallResult {
      if (proc.beforeBlock({ syscall: "proc_snapshot", reason: "explicit" }) === "unwind") {
        return UNWIND;
      }
      return 0;
    },
  };
}
