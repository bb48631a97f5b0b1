/**
 * `epoll_create`, `epoll_ctl`, `epoll_wait`: level-triggered readiness over any handles that
 * implement the readiness protocol of `Handle` (sockets, pipes, event fds, stdio, files).
 *
 * @module
 */

import {
  ERRNO_BADF,
  ERRNO_EXIST,
  ERRNO_INVAL,
  ERRNO_NOENT,
  ERRNO_PERM,
  FILETYPE_UNKNOWN,
  Handle,
  type HandleDescription,
  type Process,
  RIGHTS_FD_READ,
  RIGHTS_POLL_FD_READWRITE,
  type SyscallResult,
  type SyscallTable,
} from "../wasi/mod.ts";
import { Notifier } from "../vnet/mod.ts";
import { sleep } from "./_blocking.ts";
import { fail } from "./_errno.ts";
import {
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLL_EVENT_SIZE,
  EPOLLERR,
  type EpollEvent,
  EPOLLHUP,
  EPOLLIN,
  EPOLLONESHOT,
  EPOLLOUT,
  EPOLLRDHUP,
  readEpollEvent,
  writeEpollEvent,
} from "./defs.ts";
import { SocketHandle } from "./socket_handle.ts";

/** An epoll fd can be polled (nested epoll, poll_oneoff) but not read or written. */
const EPOLL_RIGHTS = RIGHTS_FD_READ | RIGHTS_POLL_FD_READWRITE;

/** Consecutive non-waiting `epoll_wait` calls after which the guest yields once. */
const YIELD_EVERY = 256;

interface Interest {
  fd: number;
  handle: Handle;
  event: EpollEvent;
  /** EPOLLONESHOT fired: disarmed until EPOLL_CTL_MOD. */
  disarmed: boolean;
}

/** The events `interest` has now (before masking with what it asked for). */
function readiness(h: Handle): number {
  let ev = 0;
  if (h.pollReadable()) ev |= EPOLLIN;
  if (h.pollWritable()) ev |= EPOLLOUT;
  if (h.hangup()) ev |= EPOLLHUP;
  if (h instanceof SocketHandle && h.peerShutWrite) ev |= EPOLLRDHUP;
  return ev;
}

/**
 * An epoll instance: its interest list. Readable (for nested epoll and poll_oneoff) when any
 * interest is ready.
 */
export class EpollHandle extends Handle {
  readonly #interests = new Map<number, Interest>();
  readonly #changes = new Notifier();
  /** The interests as an array, rebuilt after a change (collect runs far more often than ctl). */
  #list: Interest[] | null = null;
  /** Interests on handles other than sockets, whose waits take an abort signal. */
  #others = 0;

  override get filetype(): number {
    return FILETYPE_UNKNOWN;
  }

  override get maxRights(): number {
    return EPOLL_RIGHTS;
  }

  #immediate = 0;
  #cursor = 0;

  /**
   * Counts a call that returned without waiting; true every {@link YIELD_EVERY} such calls in a
   * row, when the caller should yield to the event loop once.
   */
  busy(): boolean {
    if (++this.#immediate < YIELD_EVERY) return false;
    this.#immediate = 0;
    return true;
  }

  /** Records that a call waited (the guest is not spinning). */
  waited(): void {
    this.#immediate = 0;
  }

  /** `EPOLL_CTL_ADD` / `MOD` / `DEL`. */
  control(op: number, fd: number, handle: Handle, event: EpollEvent | null): void {
    if (handle === this) fail(ERRNO_INVAL, "An epoll instance cannot watch itself");
    const existing = this.#interests.get(fd);
    if (op === EPOLL_CTL_ADD) {
      if (existing && existing.handle === handle) fail(ERRNO_EXIST, `fd ${fd} is already watched`);
      this.#interests.set(fd, { fd, handle, event: event!, disarmed: false });
    } else if (op === EPOLL_CTL_MOD) {
      if (!existing || existing.handle !== handle) fail(ERRNO_NOENT, `fd ${fd} is not watched`);
      existing.event = event!;
      existing.disarmed = false;
    } else if (op === EPOLL_CTL_DEL) {
      if (!existing || existing.handle !== handle) fail(ERRNO_NOENT, `fd ${fd} is not watched`);
      this.#interests.delete(fd);
    } else {
      fail(ERRNO_INVAL, `Unknown epoll_ctl operation ${op}; use ADD (0), MOD (1) or DEL (2)`);
    }
    this.#changed();
  }

  #changed(): void {
    this.#list = null;
    let others = 0;
    for (const it of this.#interests.values()) if (!(it.handle instanceof SocketHandle)) others++;
    this.#others = others;
    this.#changes.notify();
  }

  /** True when waiting needs an abort signal (some interest is not a socket). */
  get needsSignal(): boolean {
    return this.#others > 0;
  }

  /**
   * Collects up to `max` ready events. `alive(fd, handle)` drops interests whose fd was closed
   * (Linux removes them when the description closes).
   */
  collect(max: number, alive: (fd: number, h: Handle) => boolean): EpollEvent[] {
    const out: EpollEvent[] = [];
    const all = this.#list ??= [...this.#interests.values()];
    // Start after the last fd reported, so that a small maxevents cannot starve later fds.
    const start = all.length === 0 ? 0 : this.#cursor % all.length;
    for (let k = 0; k < all.length && out.length < max; k++) {
      const it = all[(start + k) % all.length];
      if (!alive(it.fd, it.handle)) {
        this.#interests.delete(it.fd);
        this.#list = null;
        if (!(it.handle instanceof SocketHandle)) this.#others--;
        continue;
      }
      if (it.disarmed) continue;
      const ready = readiness(it.handle) & (it.event.events | EPOLLHUP | EPOLLERR);
      if (ready === 0) continue;
      out.push({ ...it.event, events: ready });
      if (it.event.events & EPOLLONESHOT) it.disarmed = true;
      this.#cursor = start + k + 1;
    }
    return out;
  }

  /** Resolves when any watched handle may have changed, or the interest list changed. */
  changed(signal?: AbortSignal): Promise<unknown> {
    // A waiter may come late (the snapshot hook can hold a block): never miss what is ready now.
    if (this.pollReadable()) return Promise.resolve();
    const waits: Promise<unknown>[] = [this.#changes.wait()];
    for (const it of this.#interests.values()) {
      if (it.disarmed) continue;
      if (it.handle instanceof SocketHandle) {
        // A socket's readiness changes only at its stream's (or listener's) next change; that
        // promise is shared and needs no clean-up.
        waits.push(it.handle.changed());
        continue;
      }
      if (it.event.events & (EPOLLIN | EPOLLRDHUP)) waits.push(it.handle.waitReadable(signal));
      if (it.event.events & EPOLLOUT) waits.push(it.handle.waitWritable(signal));
      if (!(it.event.events & (EPOLLIN | EPOLLOUT))) waits.push(it.handle.waitReadable(signal));
    }
    return Promise.race(waits);
  }

  override pollReadable(): boolean {
    for (const it of this.#interests.values()) {
      if (!it.disarmed && (readiness(it.handle) & (it.event.events | EPOLLHUP | EPOLLERR))) {
        return true;
      }
    }
    return false;
  }

  override pollWritable(): boolean {
    return false;
  }

  override waitReadable(signal?: AbortSignal): Promise<void> {
    if (this.pollReadable()) return Promise.resolve();
    const ctl = new AbortController();
    signal?.addEventListener("abort", () => ctl.abort(), { once: true });
    return this.changed(ctl.signal).then(() => ctl.abort());
  }

  override close(): void {
    this.#interests.clear();
    this.#list = null;
    this.#others = 0;
  }

  override describe(): HandleDescription {
    return {
      kind: "epoll",
      interests: [...this.#interests.values()].map((it) => ({
        fd: it.fd,
        events: it.event.events,
        data: [it.event.ptr, it.event.fd, it.event.data1, it.event.data2.toString()],
      })),
    };
  }
}

/** Imports of this family that may suspend the guest. */
export const EPOLL_BLOCKING = ["epoll_wait"];

/** `epoll_create`, `epoll_ctl`, `epoll_wait`. */
export function epollSyscalls(proc: Process): SyscallTable {
  const epollOf = (fd: number): EpollHandle => {
    const h = proc.fds.handle(fd);
    if (!(h instanceof EpollHandle)) fail(ERRNO_INVAL, `fd ${fd} is not an epoll instance`);
    return h;
  };
  const alive = (fd: number, h: Handle) => proc.fds.get(fd)?.handle === h;

  return {
    epoll_create(roFd: number) {
      proc.mem.view(roFd, 4);
      const fd = proc.fds.insert({
        handle: new EpollHandle(),
        rightsBase: EPOLL_RIGHTS,
        rightsInheriting: 0,
        fdflags: 0,
      });
      proc.mem.setU32(roFd, fd);
      return 0;
    },

    epoll_ctl(epfd: number, op: number, fd: number, eventPtr: number) {
      const ep = epollOf(epfd);
      const entry = proc.fds.get(fd);
      if (entry === undefined) fail(ERRNO_BADF, `Bad file descriptor ${fd}`);
      let event: EpollEvent | null = null;
      if (op === EPOLL_CTL_ADD || op === EPOLL_CTL_MOD) {
        const view = proc.mem.view(eventPtr, EPOLL_EVENT_SIZE);
        event = readEpollEvent(view, eventPtr >>> 0);
      }
      if (entry.preopenPath !== undefined) {
        fail(ERRNO_PERM, "Directories cannot be watched by epoll");
      }
      ep.control(op, fd, entry.handle, event);
      return 0;
    },

    epoll_wait(
      epfd: number,
      eventsPtr: number,
      maxEvents: number,
      timeout: bigint,
      roN: number,
    ): SyscallResult {
      const ep = epollOf(epfd);
      maxEvents >>>= 0;
      if (maxEvents === 0) fail(ERRNO_INVAL, "epoll_wait needs maxevents > 0");
      proc.mem.view(eventsPtr, maxEvents * EPOLL_EVENT_SIZE);
      proc.mem.view(roN, 4);
      const ns = BigInt.asUintN(64, BigInt(timeout));
      const forever = ns === 0xffff_ffff_ffff_ffffn;
      const deadline = forever ? Infinity : performance.now() + Number(ns) / 1e6;

      const attempt = (): SyscallResult => {
        const ready = ep.collect(maxEvents, alive);
        if (ready.length > 0 && ep.busy()) {
          // The guest keeps finding events without ever waiting: let Deno's event loop run once,
          // so that a guest spinning on a ready fd cannot starve the host.
          return proc.block(
            { syscall: "epoll_wait", reason: "poll", fd: epfd },
            () => sleep(0),
            attempt,
          );
        }
        if (ready.length > 0 || performance.now() >= deadline) {
          const view = proc.mem.view(eventsPtr, maxEvents * EPOLL_EVENT_SIZE);
          ready.forEach((e, i) =>
            writeEpollEvent(view, (eventsPtr >>> 0) + i * EPOLL_EVENT_SIZE, e)
          );
          proc.mem.setU32(roN, ready.length);
          return 0;
        }
        ep.waited();
        return proc.block({ syscall: "epoll_wait", reason: "poll", fd: epfd }, () => {
          // Sockets alone (the common case) need no abort signal, and so no AbortController.
          if (deadline === Infinity && !ep.needsSignal) return ep.changed();
          const ctl = new AbortController();
          const waits = [ep.changed(ctl.signal)];
          if (deadline !== Infinity) waits.push(sleep(deadline - performance.now(), ctl.signal));
          return Promise.race(waits).finally(() => ctl.abort());
        }, attempt);
      };
      return attempt();
    },
  };
}
