/**
 * `poll_oneoff`: clock subscriptions (relative and absolute, any clock) and fd read/write
 * readiness. When nothing is ready it really waits, on a timer and on the handles'
 * `waitReadable` / `waitWritable` promises, so Deno's event loop keeps running (JSPI suspends the
 * guest).
 *
 * @module
 */

import {
  CLOCKID_MONOTONIC,
  CLOCKID_REALTIME,
  ERRNO_BADF,
  ERRNO_INVAL,
  ERRNO_NOTCAPABLE,
  ERRNO_SUCCESS,
  EVENT_SIZE,
  EVENTRWFLAGS_FD_READWRITE_HANGUP,
  EVENTTYPE_CLOCK,
  EVENTTYPE_FD_READ,
  EVENTTYPE_FD_WRITE,
  RIGHTS_POLL_FD_READWRITE,
  SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME,
  SUBSCRIPTION_SIZE,
} from "./defs.ts";
import { WasiError } from "./errors.ts";
import { clockNow } from "./clock.ts";
import type { Handle } from "./handle.ts";
import type { Process, SyscallResult } from "./process.ts";

interface Sub {
  userdata: bigint;
  type: number;
  /** Clock subscriptions: the deadline on the monotonic clock, in ns. */
  deadline: number;
  handle: Handle | null;
  /** An error to report at once (bad fd, bad clock). */
  error: number;
}

/** The poll syscall of `proc`. */
export function pollSyscalls(proc: Process) {
  const mem = proc.mem;

  function parse(inPtr: number, n: number): Sub[] {
    const dv = mem.view(inPtr, n * SUBSCRIPTION_SIZE);
    const subs: Sub[] = [];
    const mono = proc.clock.monotonic();
    for (let i = 0; i < n; i++) {
      const p = (inPtr >>> 0) + i * SUBSCRIPTION_SIZE;
      const userdata = dv.getBigUint64(p, true);
      const type = dv.getUint8(p + 8);
      const sub: Sub = { userdata, type, deadline: Infinity, handle: null, error: 0 };
      if (type === EVENTTYPE_CLOCK) {
        const id = dv.getUint32(p + 16, true);
        const timeout = Number(dv.getBigUint64(p + 24, true));
        const flags = dv.getUint16(p + 40, true);
        if ((flags & SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME) === 0) {
          sub.deadline = mono + timeout;
        } else if (id === CLOCKID_MONOTONIC) {
          sub.deadline = timeout;
        } else if (id === CLOCKID_REALTIME) {
          sub.deadline = mono + (timeout - proc.clock.realtime());
        } else {
          try {
            sub.deadline = mono + (timeout - clockNow(proc, id));
          } catch (e) {
            if (!(e instanceof WasiError)) throw e;
            sub.error = e.errno;
          }
        }
        if (id > 3) sub.error = ERRNO_INVAL;
      } else if (type === EVENTTYPE_FD_READ || type === EVENTTYPE_FD_WRITE) {
        const fd = dv.getUint32(p + 16, true);
        const e = proc.fds.get(fd);
        // wasmtime fails the whole call for an fd that is not open.
        if (e === undefined) throw new WasiError(`poll_oneoff: bad fd ${fd}`, ERRNO_BADF);
        else if ((e.rightsBase & RIGHTS_POLL_FD_READWRITE) === 0) sub.error = ERRNO_NOTCAPABLE;
        else sub.handle = e.handle;
      } else {
        throw new WasiError(`Unknown subscription type ${type}`, ERRNO_INVAL);
      }
      subs.push(sub);
    }
    return subs;
  }

  function check(subs: Sub[], outPtr: number, neventsPtr: number): boolean {
    const now = proc.clock.monotonic();
    const dv = mem.view(outPtr, subs.length * EVENT_SIZE);
    let n = 0;
    for (const s of subs) {
      let ready = s.error !== 0;
      let nbytes = 0;
      let flags = 0;
      if (!ready) {
        if (s.type === EVENTTYPE_CLOCK) ready = s.deadline <= now;
        else if (s.type === EVENTTYPE_FD_READ) {
          ready = s.handle!.pollReadable();
          if (ready) nbytes = s.handle!.bytesReadable();
        } else {
          ready = s.handle!.pollWritable();
        }
        if (ready && s.type !== EVENTTYPE_CLOCK && s.handle!.hangup()) {
          flags = EVENTRWFLAGS_FD_READWRITE_HANGUP;
        }
      }
      if (!ready) continue;
      const p = (outPtr >>> 0) + n * EVENT_SIZE;
      dv.setBigUint64(p, s.userdata, true);
      dv.setUint16(p + 8, s.error, true);
      dv.setUint8(p + 10, s.type);
      dv.setUint8(p + 11, 0);
      dv.setUint32(p + 12, 0, true);
      mem.setU64n(p + 16, nbytes);
      dv.setUint16(p + 24, flags, true);
      dv.setUint16(p + 26, 0, true);
      dv.setUint32(p + 28, 0, true);
      n++;
    }
    if (n > 0) mem.setU32(neventsPtr, n);
    return n > 0;
  }

  function wait(subs: Sub[]): Promise<void> {
    return new Promise((resolve) => {
      const ac = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        ac.abort();
        resolve();
      };
      let deadline = Infinity;
      for (const s of subs) {
        if (s.type === EVENTTYPE_CLOCK) deadline = Math.min(deadline, s.deadline);
        else if (s.type === EVENTTYPE_FD_READ) s.handle!.waitReadable(ac.signal).then(done, done);
        else s.handle!.waitWritable(ac.signal).then(done, done);
      }
      if (deadline !== Infinity) {
        // setTimeout holds at most 2^31-1 ms; a longer sleep wakes early and waits again.
        const ms = Math.min(
          2147483647,
          Math.max(0, Math.ceil((deadline - proc.clock.monotonic()) / 1e6)),
        );
        timer = setTimeout(done, ms);
      }
    });
  }

  function loop(subs: Sub[], outPtr: number, neventsPtr: number): SyscallResult {
    if (check(subs, outPtr, neventsPtr)) return ERRNO_SUCCESS;
    const sleeping = subs.every((s) => s.type === EVENTTYPE_CLOCK);
    return proc.block(
      { syscall: "poll_oneoff", reason: sleeping ? "sleep" : "poll" },
      () => wait(subs),
      () => loop(subs, outPtr, neventsPtr),
    );
  }

  return {
    poll_oneoff(inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): SyscallResult {
      nsubs >>>= 0;
      if (nsubs === 0) {
        throw new WasiError("poll_oneoff needs at least one subscription", ERRNO_INVAL);
      }
      mem.view(outPtr, nsubs * EVENT_SIZE);
      mem.view(neventsPtr, 4);
      return loop(parse(inPtr, nsubs), outPtr, neventsPtr);
    },
  };
}
