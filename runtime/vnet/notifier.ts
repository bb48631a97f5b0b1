/**
 * A one-shot broadcast: every `wait()` promise taken before `notify()` resolves on the next
 * `notify()`. Readiness changes of streams and listeners are signalled through it, so that
 * pollers (poll_oneoff, epoll_wait, blocked recv/accept) can sleep without timers.
 *
 * @module
 */

/**
 * Wakes every waiter on the next state change.
 *
 * @example
 * ```ts
 * import { Notifier } from "./notifier.ts";
 * const n = new Notifier();
 * const woke = n.wait();
 * n.notify();
 * await woke;
 * ```
 */
export class Notifier {
  #resolve: (() => void) | null = null;
  #promise: Promise<void> | null = null;
  #listener: (() => void) | null = null;

  /**
   * Calls `listener` synchronously on every `notify()`, besides waking the waiters; null removes
   * it. One listener at a time: the proxy runner's, which parses a guest's answer as it arrives.
   */
  listen(listener: (() => void) | null): void {
    this.#listener = listener;
  }

  /** A promise that resolves at the next `notify()`. Waiters share one promise. */
  wait(): Promise<void> {
    if (this.#promise === null) {
      this.#promise = new Promise<void>((resolve) => {
        this.#resolve = resolve;
      });
    }
    return this.#promise;
  }

  /** Wakes every current waiter and calls the listener. Cheap when nobody waits. */
  notify(): void {
    this.#listener?.();
    const resolve = this.#resolve;
    if (resolve !== null) {
      this.#resolve = null;
      this.#promise = null;
      resolve();
    }
  }
}
