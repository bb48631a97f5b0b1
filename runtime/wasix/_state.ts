/**
 * Per-process WASIX state that the preview1 `Process` does not carry: the virtual network, the
 * process id and the terminal settings. (The working directory is `proc.cwd`, the CLOEXEC bits
 * `FdEntry.fdflagsext`, both in runtime/wasi so snapshots see them.)
 *
 * @module
 */

import type { Process } from "../wasi/mod.ts";
import { VirtualNetwork } from "../vnet/mod.ts";
import type { Tty } from "./defs.ts";

/** The default terminal: 80x25, a TTY on no stream (output is a pipe to Thaw). */
export const DEFAULT_TTY: Readonly<Tty> = Object.freeze({
  cols: 80,
  rows: 25,
  width: 800,
  height: 600,
  stdinTty: false,
  stdoutTty: false,
  stderrTty: false,
  echo: true,
  lineBuffered: true,
  lineFeeds: true,
});

/** WASIX state of one process. */
export class WasixState {
  readonly net: VirtualNetwork;
  /** The process id `proc_id` reports. */
  readonly pid: number;
  tty: Tty = { ...DEFAULT_TTY };

  constructor(net: VirtualNetwork, pid: number) {
    this.net = net;
    this.pid = pid;
  }
}

const states = new WeakMap<Process, WasixState>();

/** Options for {@link wasixState}. */
export interface WasixStateOptions {
  /** The network the process's sockets use. @default a new VirtualNetwork */
  net?: VirtualNetwork;
  /** @default 1 */
  pid?: number;
}

/** The WASIX state of `proc`, created on first use. */
export function wasixState(proc: Process, options: WasixStateOptions = {}): WasixState {
  let s = states.get(proc);
  if (s === undefined) {
    s = new WasixState(options.net ?? new VirtualNetwork(), options.pid ?? 1);
    states.set(proc, s);
  }
  return s;
}
