/**
 * An app-agnostic pool of blank, pre-faulted `WebAssembly.Memory` objects.
 *
 * Copying a 24 MB image into a fresh memory costs about 12–20 ms, most of it page faults on
 * untouched pages, plus GC pressure from every discarded 70+ MB memory. Copying into memory
 * whose pages are already touched costs about 2.5 ms. The pool keeps such memories: each is
 * all zeros (never an app's image), sized in classes of {@linkcode PoolOptions.classPages}, and
 * zeroed again in the background, in slices, after its instance is done with it. Its memory cost
 * is bounded: at most `maxIdle` idle memories, plus those being zeroed.
 *
 * This only works for modules prepared to import their memory (see `prepareModule`).
 *
 * @module
 */

const PAGE = 65536;

/** Options for {@linkcode MemoryPool}. */
export interface PoolOptions {
  /** Size classes are multiples of this many pages. @default 128 (8 MiB) */
  readonly classPages?: number;
  /** Blank memories kept in all; the pool holds at most this many idle memories. @default 2 */
  readonly maxIdle?: number;
  /** Bytes zeroed per background slice, so a slice never blocks the event loop long. @default 8 MiB */
  readonly sliceBytes?: number;
  /** The `maximum` every memory is created with (must match the module's import). */
  readonly maximumPages?: number;
}

/** Counters for reports. */
export interface PoolStats {
  /** Takes answered with a blank pre-faulted memory. */
  hits: number;
  /** Takes that had to create a fresh memory. */
  misses: number;
  /** Memories zeroed and returned. */
  recycled: number;
  /** Memories currently idle. */
  idle: number;
  /** Bytes held by idle memories. */
  idleBytes: number;
}

/**
 * Blank pre-faulted memories, by size class.
 *
 * @example
 * ```ts
 * import { MemoryPool } from "./memory_pool.ts";
 * const pool = new MemoryPool({ classPages: 16 });
 * await pool.prefill(10, 1);
 * const mem = pool.take(10);
 * console.assert(mem.buffer.byteLength >= 10 * 65536);
 * pool.give(mem);
 * await pool.idle();
 * pool.close();
 * ```
 */
export class MemoryPool {
  #classPages: number;
  #maxIdle: number;
  #slice: number;
  #maximum: number | undefined;
  #idle = new Map<number, WebAssembly.Memory[]>();
  #zeroing: { memory: WebAssembly.Memory; at: number }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: (() => void)[] = [];
  #closed = false;
  #stats = { hits: 0, misses: 0, recycled: 0 };

  constructor(opts: PoolOptions = {}) {
    this.#classPages = opts.classPages ?? 128;
    this.#maxIdle = opts.maxIdle ?? 2;
    this.#slice = opts.sliceBytes ?? 8 << 20;
    this.#maximum = opts.maximumPages;
  }

  /** The size class (in pages) a request for `pages` is served from. */
  classOf(pages: number): number {
    return Math.max(1, Math.ceil(pages / this.#classPages)) * this.#classPages;
  }

  #create(pages: number): WebAssembly.Memory {
    return new WebAssembly.Memory(
      this.#maximum === undefined ? { initial: pages } : { initial: pages, maximum: this.#maximum },
    );
  }

  /**
   * A blank memory of at least `pages` pages: pre-faulted from the pool when one is idle (the
   * smallest class that fits, at most one class larger), else a fresh one (counted as a miss).
   */
  take(pages: number): WebAssembly.Memory {
    const cls = this.classOf(pages);
    // The smallest idle class that fits, at most one class larger: a memory that grew a little
    // while in use still serves, but a much larger one would leave the guest a large unused gap
    // below its heap (its allocator starts at the end of the memory it finds).
    let best: number | undefined;
    for (const [c, list] of this.#idle) {
      if (c >= cls && c <= cls + this.#classPages && list.length > 0 && (best ?? Infinity) > c) {
        best = c;
      }
    }
    if (best !== undefined) {
      this.#stats.hits++;
      return this.#idle.get(best)!.pop()!;
    }
    this.#stats.misses++;
    return this.#create(cls);
  }

  /**
   * Returns a memory after its instance is gone. It is zeroed in the background, then kept if
   * the pool holds fewer than `maxIdle` idle memories, else dropped.
   */
  give(memory: WebAssembly.Memory): void {
    if (this.#closed) return;
    this.#zeroing.push({ memory, at: 0 });
    this.#schedule();
  }

  /**
   * Creates and pre-faults `count` blank memories for `pages`, in background slices.
   * Resolves when they are idle in the pool.
   */
  prefill(pages: number, count: number): Promise<void> {
    const cls = this.classOf(pages);
    for (let i = 0; i < count; i++) this.#zeroing.push({ memory: this.#create(cls), at: 0 });
    this.#schedule();
    return this.idle();
  }

  /** Resolves when no memory is waiting to be zeroed. */
  idle(): Promise<void> {
    if (this.#zeroing.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Counters and the idle memory held. */
  stats(): PoolStats {
    let idle = 0;
    let idleBytes = 0;
    for (const list of this.#idle.values()) {
      idle += list.length;
      for (const m of list) idleBytes += m.buffer.byteLength;
    }
    return { ...this.#stats, idle, idleBytes };
  }

  /** Drops every idle memory and stops background work. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#idle.clear();
    this.#zeroing = [];
    for (const w of this.#waiters.splice(0)) w();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#step();
    }, 0);
  }

  #step(): void {
    const job = this.#zeroing[0];
    if (!job) return;
    const u8 = new Uint8Array(job.memory.buffer);
    const end = Math.min(u8.length, job.at + this.#slice);
    u8.fill(0, job.at, end);
    job.at = end;
    if (end >= u8.length) {
      this.#zeroing.shift();
      const cls = Math.floor(u8.length / PAGE / this.#classPages) * this.#classPages ||
        u8.length / PAGE;
      const list = this.#idle.get(cls) ?? [];
      let idle = 0;
      for (const l of this.#idle.values()) idle += l.length;
      if (idle < this.#maxIdle) {
        list.push(job.memory);
        this.#idle.set(cls, list);
        this.#stats.recycled++;
      }
    }
    if (this.#zeroing.length > 0) this.#schedule();
    else for (const w of this.#waiters.splice(0)) w();
  }
}
