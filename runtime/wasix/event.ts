/**
 * `fd_event`: eventfd counters. A write adds an 8-byte little-endian value; a read returns the
 * counter and resets it (or, in semaphore mode, returns 1 and decrements it).
 *
 * @module
 */

import {
  ERRNO_AGAIN,
  ERRNO_INVAL,
  FILETYPE_UNKNOWN,
  Handle,
  type HandleDescription,
  type Process,
  RIGHTS_STREAM,
  type SyscallTable,
} from "../wasi/mod.ts";
import { Notifier } from "../vnet/mod.ts";
import { fail } from "./_errno.ts";
import { EVENTFDFLAGS_SEMAPHORE } from "./defs.ts";

const MAX = (1n << 64n) - 2n;

/**
 * An event counter.
 *
 * @example
 * ```ts
 * const ev = new EventHandle(1n, false);
 * const buf = new Uint8Array(8);
 * ev.read(buf); // 8; buf holds 1 (little-endian)
 * ```
 */
export class EventHandle extends Handle {
  #value: bigint;
  readonly semaphore: boolean;
  readonly #notifier = new Notifier();

  constructor(initial: bigint, semaphore: boolean) {
    super();
    this.#value = initial;
    this.semaphore = semaphore;
  }

  /** The current counter. */
  get value(): bigint {
    return this.#value;
  }

  override get filetype(): number {
    return FILETYPE_UNKNOWN;
  }

  override get maxRights(): number {
    return RIGHTS_STREAM;
  }

  override read(dst: Uint8Array): number {
    if (dst.byteLength < 8) fail(ERRNO_INVAL, "An event fd is read 8 bytes at a time");
    if (this.#value === 0n) fail(ERRNO_AGAIN, "The event counter is zero");
    const out = this.semaphore ? 1n : this.#value;
    this.#value -= out;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, out, true);
    this.#notifier.notify();
    return 8;
  }

  override write(src: Uint8Array): number {
    if (src.byteLength < 8) fail(ERRNO_INVAL, "An event fd is written 8 bytes at a time");
    const add = new DataView(src.buffer, src.byteOffset, 8).getBigUint64(0, true);
    if (add > MAX) fail(ERRNO_INVAL, "0xffffffffffffffff cannot be added to an event fd");
    if (this.#value + add > MAX) fail(ERRNO_AGAIN, "The event counter would overflow");
    this.#value += add;
    this.#notifier.notify();
    return 8;
  }

  override pollReadable(): boolean {
    return this.#value > 0n;
  }

  override pollWritable(): boolean {
    return this.#value < MAX;
  }

  override bytesReadable(): number {
    return this.#value > 0n ? 8 : 0;
  }

  override waitReadable(): Promise<void> {
    return this.pollReadable() ? Promise.resolve() : this.#notifier.wait();
  }

  override waitWritable(): Promise<void> {
    return this.pollWritable() ? Promise.resolve() : this.#notifier.wait();
  }

  /** Resolves at the next change of the counter. */
  changed(): Promise<void> {
    return this.#notifier.wait();
  }

  override describe(): HandleDescription {
    return { kind: "event", value: this.#value.toString(), semaphore: this.semaphore };
  }
}

/** `fd_event(initial_val: u64, flags, ro_fd)`. */
export function eventSyscalls(proc: Process): SyscallTable {
  return {
    fd_event(initial: bigint, flags: number, roFd: number) {
      if ((flags & ~EVENTFDFLAGS_SEMAPHORE) !== 0) {
        fail(ERRNO_INVAL, `Unknown fd_event flags ${flags}`);
      }
      proc.mem.view(roFd, 4);
      const handle = new EventHandle(
        BigInt.asUintN(64, BigInt(initial)),
        (flags & EVENTFDFLAGS_SEMAPHORE) !== 0,
      );
      const fd = proc.fds.insert({
        handle,
        rightsBase: RIGHTS_STREAM,
        rightsInheriting: 0,
        fdflags: 0,
      });
      proc.mem.setU32(roFd, fd);
      return 0;
    },
  };
}
