/**
 * A single-producer, single-consumer message ring over a SharedArrayBuffer, woken with
 * `Atomics.waitAsync`. The host and an instance Worker use one ring per direction for small
 * requests and responses: a `postMessage` round trip costs the host's thread about 20 µs, which
 * would cap a host at well under half of plain `Deno.serve` throughput; under load the ring
 * carries many messages per wake-up.
 *
 * Messages are a head (JSON, or a string the caller encoded) plus optional raw bytes, or a
 * numeric tag plus bytes ({@linkcode Ring.tryWriteBytes}: the host's HTTP/1.1 requests for a proxy
 * guest, which the Worker hands on without decoding). Anything that does not fit goes by
 * `postMessage` instead (the caller falls back when a write returns false).
 *
 * @module
 */

import { setImmediate } from "node:timers";

const W = 0; // bytes ever written (u32, wrapping)
const R = 1; // bytes ever read (u32, wrapping)
const CLOSED = 2;
const WAITING = 3; // the consumer is (about to be) parked in Atomics.waitAsync
const HEADER_BYTES = 16;
const WRAP = 0xffffffff;
/** Set in a message's head length word when the head is plain ASCII. */
const ASCII = 0x80000000;
/** Set in a message's head length word when the head is a caller-encoded string, not JSON. */
const TEXT = 0x40000000;
/** Set in a message's head length word when a u32 tag follows it and the rest is plain bytes. */
const TAGGED = 0x20000000;
const LENGTH = 0x1fffffff;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Event-loop turns a polling consumer ({@linkcode Ring.readable}) looks again before it parks.
 * The host polls its response rings while requests are in flight: a wake-up through
 * `Atomics.waitAsync` costs both threads more than the turns (measured in BENCHMARKS.md, Host).
 */
export const POLL_TURNS = 200;

/** Default ring capacity per direction, in bytes (a power of two). */
export const RING_CAPACITY = 1 << 20;

/**
 * One direction of a host-Worker channel.
 *
 * @example
 * ```ts
 * import { Ring } from "./ring.ts";
 * const sab = Ring.allocate(1024);
 * const producer = new Ring(sab);
 * const consumer = new Ring(sab);
 * producer.tryWrite({ hello: 1 }, new Uint8Array([1, 2]));
 * consumer.drain((head, body) => console.log(head, body));
 * ```
 */
export class Ring {
  readonly #ctl: Int32Array;
  readonly #u8: Uint8Array;
  readonly #u32: Uint32Array;
  readonly #capacity: number;

  /** A shared buffer for a ring of `capacity` bytes (a power of two, at least 64). */
  static allocate(capacity = RING_CAPACITY): SharedArrayBuffer {
    if (capacity < 64 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`Ring capacity must be a power of two of at least 64, not ${capacity}`);
    }
    return new SharedArrayBuffer(HEADER_BYTES + capacity);
  }

  /** Wraps a buffer from {@linkcode Ring.allocate}; both ends wrap the same buffer. */
  constructor(buffer: SharedArrayBuffer) {
    this.#ctl = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#capacity = buffer.byteLength - HEADER_BYTES;
    this.#u8 = new Uint8Array(buffer, HEADER_BYTES, this.#capacity);
    this.#u32 = new Uint32Array(buffer, HEADER_BYTES, this.#capacity / 4);
  }

  /** Largest message (head and body) the ring can ever take. */
  get maxMessage(): number {
    return this.#capacity / 2;
  }

  /** True once either end closed the ring. */
  get closed(): boolean {
    return Atomics.load(this.#ctl, CLOSED) !== 0;
  }

  /** Marks the ring closed and wakes a waiting consumer or producer. */
  close(): void {
    Atomics.store(this.#ctl, CLOSED, 1);
    Atomics.notify(this.#ctl, W);
    Atomics.notify(this.#ctl, R);
  }

  /**
   * Appends one message. Returns false, writing nothing, when it does not fit right now; the
   * caller then sends it another way.
   */
  tryWrite(head: unknown, body: Uint8Array | null = null): boolean {
    return this.#write(JSON.stringify(head), body, 0);
  }

  /**
   * Appends one message whose head is a string the caller encoded itself (the host's request and
   * response heads: no JSON on the hot path). {@linkcode Ring.drain} hands it back as that string.
   * Returns false, writing nothing, when it does not fit right now.
   */
  tryWriteText(head: string, body: Uint8Array | null = null): boolean {
    return this.#write(head, body, TEXT);
  }

  /**
   * Appends one message of a numeric tag (a u32) and bytes: `text` (one byte per character
   * when it is ASCII, else UTF-8) followed by `body`. {@linkcode Ring.drain} hands it back as the
   * tag and one fresh `Uint8Array` of text and body together, undecoded. Returns false, writing
   * nothing, when it does not fit right now.
   *
   * @example
   * ```ts
   * import { Ring } from "./ring.ts";
   * const sab = Ring.allocate(1024);
   * new Ring(sab).tryWriteBytes(7, "GET / HTTP/1.1\r\n\r\n", null);
   * new Ring(sab).drain((tag, bytes) => console.assert(tag === 7 && (bytes as Uint8Array).length === 18));
   * ```
   */
  tryWriteBytes(tag: number, text: string, body: Uint8Array | null): boolean {
    return this.#write(text, body, TAGGED, tag >>> 0);
  }

  #write(text: string, body: Uint8Array | null, flags: number, tag = 0): boolean {
    // Heads are nearly always ASCII: then the string is copied in as is, with no encoder call
    // and no temporary buffer, and the reader knows it may decode it the same way.
    let json: Uint8Array | null = null;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) > 127) {
        json = encoder.encode(text);
        break;
      }
    }
    const jsonLength = json === null ? text.length : json.length;
    const at = flags === TAGGED ? 12 : 8; // where the head's bytes start
    const size = at + jsonLength + (body?.length ?? 0);
    const padded = (size + 3) & ~3;
    if (padded > this.maxMessage) return false;
    const cap = this.#capacity;
    let w = Atomics.load(this.#ctl, W) >>> 0;
    const r = Atomics.load(this.#ctl, R) >>> 0;
    const free = cap - ((w - r) >>> 0);
    let off = w % cap;
    const contiguous = cap - off;
    if (padded > contiguous) {
      if (free < contiguous + padded) return false;
      this.#u32[off >> 2] = WRAP;
      w = (w + contiguous) >>> 0;
      off = 0;
    } else if (free < padded) return false;
    this.#u32[off >> 2] = size;
    this.#u32[(off >> 2) + 1] =
      (json === null ? jsonLength | ASCII | flags : jsonLength | flags) >>>
      0;
    if (flags === TAGGED) this.#u32[(off >> 2) + 2] = tag;
    if (json === null) {
      const u8 = this.#u8;
      for (let i = 0, to = off + at; i < jsonLength; i++) u8[to + i] = text.charCodeAt(i);
    } else this.#u8.set(json, off + at);
    if (body) this.#u8.set(body, off + at + jsonLength);
    Atomics.store(this.#ctl, W, (w + padded) | 0);
    // Waking a consumer parked in Atomics.waitAsync costs this thread about 40 µs (a futex call
    // and a task posted to the consumer's isolate). Deno.serve hands over one request per
    // event-loop turn, so a wake per turn (a microtask) was a wake per 1.5 requests under wrk:
    // wake once per event-loop iteration instead (an immediate runs before this thread can idle),
    // 11 messages per wake under the same load.
    if (!this.#wakeQueued) {
      this.#wakeQueued = true;
      setImmediate(this.#wake);
    }
    return true;
  }

  #wakeQueued = false;

  /**
   * Wakes the consumer if it sleeps; skipped while it is busy draining. The consumer sets
   * WAITING before its last look at W, so one of the two always sees the other (the atomics are
   * sequentially consistent).
   */
  readonly #wake = (): void => {
    this.#wakeQueued = false;
    if (Atomics.load(this.#ctl, WAITING) !== 0) Atomics.notify(this.#ctl, W);
  };

  /**
   * Reads every available message, in order. A head written with {@linkcode Ring.tryWriteText}
   * arrives as that string; one written with {@linkcode Ring.tryWrite} arrives parsed; one
   * written with {@linkcode Ring.tryWriteBytes} arrives as its tag (a number), with all its
   * bytes as the body. Returns how many were read.
   */
  drain(onMessage: (head: unknown, body: Uint8Array<ArrayBuffer> | null) => void): number {
    const cap = this.#capacity;
    let r = Atomics.load(this.#ctl, R) >>> 0;
    const w = Atomics.load(this.#ctl, W) >>> 0;
    let count = 0;
    const messages: [unknown, Uint8Array<ArrayBuffer> | null][] = [];
    while (r !== w) {
      const off = r % cap;
      const size = this.#u32[off >> 2];
      if (size === WRAP) {
        r = (r + (cap - off)) >>> 0;
        continue;
      }
      const word = this.#u32[(off >> 2) + 1];
      if ((word & TAGGED) !== 0) {
        messages.push([this.#u32[(off >> 2) + 2], this.#u8.slice(off + 12, off + size)]);
        r = (r + ((size + 3) & ~3)) >>> 0;
        count++;
        continue;
      }
      const jsonLength = word & LENGTH;
      const bytes = this.#u8.subarray(off + 8, off + 8 + jsonLength);
      // The ring is shared memory, which TextDecoder copies before it decodes: an ASCII head is
      // turned into a string directly (0.39 against 0.72 µs for 80 bytes).
      const text = (word & ASCII) !== 0 && jsonLength <= 4096
        ? String.fromCharCode.apply(null, bytes as unknown as number[])
        : decoder.decode(bytes);
      const head = (word & TEXT) !== 0 ? text : JSON.parse(text);
      const body = size > 8 + jsonLength ? this.#u8.slice(off + 8 + jsonLength, off + size) : null;
      messages.push([head, body]);
      r = (r + ((size + 3) & ~3)) >>> 0;
      count++;
    }
    if (count > 0) {
      // Free the space before running handlers, which may write to the other ring.
      Atomics.store(this.#ctl, R, r | 0);
      for (const [head, body] of messages) onMessage(head, body);
    }
    return count;
  }

  /**
   * Resolves when messages are available or the ring is closed. With `poll`, and while it says
   * so, it first looks again on each of the next {@linkcode POLL_TURNS} event-loop turns before
   * it parks: the producer skips its wake-up (a cross-thread call) while this end is not parked.
   */
  async readable(poll?: () => boolean): Promise<void> {
    if (poll !== undefined) {
      for (let i = 0; i < POLL_TURNS && poll() && !this.closed; i++) {
        if (Atomics.load(this.#ctl, W) !== Atomics.load(this.#ctl, R)) return;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    while (!this.closed) {
      Atomics.store(this.#ctl, WAITING, 1);
      const w = Atomics.load(this.#ctl, W);
      if (w !== Atomics.load(this.#ctl, R)) break;
      const wait = Atomics.waitAsync(this.#ctl, W, w);
      if (wait.async) await wait.value;
    }
    Atomics.store(this.#ctl, WAITING, 0);
  }

  /**
   * Runs `onMessage` for every message until the ring is closed. With `poll`, and while it says
   * so, the ring is looked at again on each of the next {@linkcode POLL_TURNS} event-loop turns
   * before the consumer parks (see {@linkcode Ring.readable}); a turn costs one immediate, no
   * promise.
   *
   * @example
   * ```ts ignore
   * ring.consume((head, body) => handle(head, body));
   * ```
   */
  consume(
    onMessage: (head: unknown, body: Uint8Array<ArrayBuffer> | null) => void,
    poll?: () => boolean,
  ): Promise<void> {
    return new Promise<void>((resolve) => {
      let turns = 0;
      const step = (): void => {
        if (this.closed) return resolve();
        if (this.drain(onMessage) > 0) turns = 0;
        if (poll !== undefined && turns < POLL_TURNS && poll()) {
          turns++;
          setImmediate(step);
          return;
        }
        turns = 0;
        this.readable().then(step);
      };
      step();
    });
  }
}

/**
 * Compact text heads for the host's requests and responses on the rings: the fields joined by
 * NUL, which no method, URL or header (name or value) may contain. Encoding and decoding them
 * costs a join and a split, where JSON cost a stringify, a parse and an object per message.
 */
const SEP = "\0";

/** A request head as it travels on the host-to-Worker ring. */
export interface RequestHead {
  id: number;
  method: string;
  url: string;
  headers: [string, string][];
}

/** A complete response's head as it travels on the Worker-to-host ring. */
export interface ResponseHead {
  id: number;
  status: number;
  statusText: string;
  headers: [string, string][];
  /** Milliseconds from receiving the request to having the response head. */
  exec: number;
  /**
   * The whole body as text, when the Worker sent it inside the head (a small body of plain ASCII
   * characters, with a Content-Type): the host then answers with a string body, which spares
   * two byte copies on its thread.
   */
  text?: string;
}

/**
 * Encodes a request head for {@linkcode Ring.tryWriteText}. Returns null when a field holds a
 * NUL (the caller then sends JSON).
 *
 * @example
 * ```ts
 * import { decodeRequestHead, encodeRequestHead } from "./ring.ts";
 * const text = encodeRequestHead(1, "GET", "http://a.localhost/", [["accept", "*\/*"]])!;
 * console.assert(decodeRequestHead(text).headers[0][1] === "*\/*");
 * ```
 */
export function encodeRequestHead(
  id: number,
  method: string,
  url: string,
  headers: readonly (readonly [string, string])[],
): string | null {
  let text = id + SEP + method + SEP + url;
  for (let i = 0; i < headers.length; i++) text += SEP + headers[i][0] + SEP + headers[i][1];
  return countSeparators(text) === 2 + 2 * headers.length ? text : null;
}

/** Decodes what {@linkcode encodeRequestHead} wrote. */
export function decodeRequestHead(text: string): RequestHead {
  const f = text.split(SEP);
  return { id: Number(f[0]), method: f[1], url: f[2], headers: pairs(f, 3) };
}

/**
 * Encodes a response head for {@linkcode Ring.tryWriteText}. Returns null when a field holds a
 * NUL (the caller then sends JSON).
 *
 * @example
 * ```ts
 * import { decodeResponseHead, encodeResponseHead } from "./ring.ts";
 * const text = encodeResponseHead({ id: 2, status: 200, statusText: "OK", headers: [], exec: 0.5 })!;
 * console.assert(decodeResponseHead(text).exec === 0.5);
 * ```
 */
export function encodeResponseHead(head: ResponseHead): string | null {
  const headers = head.headers;
  // The text body, if any, follows a "B" so that an empty one differs from none.
  let text = head.id + SEP + head.status + SEP + head.exec + SEP +
    (head.text === undefined ? "" : "B" + head.text) + SEP + head.statusText;
  for (let i = 0; i < headers.length; i++) text += SEP + headers[i][0] + SEP + headers[i][1];
  return countSeparators(text) === 4 + 2 * headers.length ? text : null;
}

/** Decodes what {@linkcode encodeResponseHead} wrote. */
export function decodeResponseHead(text: string): ResponseHead {
  const f = text.split(SEP);
  const head: ResponseHead = {
    id: Number(f[0]),
    status: Number(f[1]),
    exec: Number(f[2]),
    statusText: f[4],
    headers: pairs(f, 5),
  };
  if (f[3] !== "") head.text = f[3].slice(1);
  return head;
}

function pairs(f: string[], from: number): [string, string][] {
  const out: [string, string][] = [];
  for (let i = from; i + 1 < f.length; i += 2) out.push([f[i], f[i + 1]]);
  return out;
}

function countSeparators(text: string): number {
  let n = 0;
  for (let at = text.indexOf(SEP); at >= 0; at = text.indexOf(SEP, at + 1)) n++;
  return n;
}
