/**
 * The WASI side of a Ruby guest: what the Rack runner needs from a WASI implementation.
 *
 * @module
 */

import type { RequestChannel, ResponseChannel } from "./channel.ts";
import { createThawSystem } from "./system_thaw.ts";

/** Options for {@linkcode createGuestSystem}. */
export interface GuestSystemOptions {
  /** argv, program name first. */
  readonly args: readonly string[];
  /** Environment variables. */
  readonly env: Readonly<Record<string, string>>;
  /** fd 0: the request channel. */
  readonly stdin: RequestChannel;
  /** fd 1: the response channel. */
  readonly stdout: ResponseChannel;
  /** fd 2: one call per line. */
  readonly stderr: (line: string) => void;
  /** Read-only directory trees, keyed by guest path (`/app`), each a map of relative path to bytes. */
  readonly mounts: Readonly<Record<string, ReadonlyMap<string, Uint8Array>>>;
}

/** A WASI import object bound to one instance's memory. */
export interface GuestSystem {
  /** The `wasi_snapshot_preview1` imports. */
  readonly imports: WebAssembly.ModuleImports;
  /** Points the syscalls at the instance's memory (before any export runs). */
  attach(memory: WebAssembly.Memory): void;
  /** The fds open right now (a snapshot must hold only the ones every start recreates). */
  openFds(): number[];
}

/** Creates the WASI backend for one Ruby instance. */
export function createGuestSystem(opts: GuestSystemOptions): GuestSystem {
  return createThawSystem(opts);
}
