/**
 * The proxy runner: the guest is an HTTP/1.1 server listening on a virtual port (or on the
 * pre-opened fd 3 of a preview1 server). Each request is written into a virtual connection and
 * the guest's answer is parsed back into plain data or a streamed {@linkcode Response}.
 *
 * Connections are kept alive and reused. By default one request is in flight at a time, because
 * many guests are single-threaded accept loops: a second connection would wait in the backlog
 * while the guest keeps reading the first. Event-loop guests can be given several connections
 * (`maxConnections`), one request on each, so that one wake-up of the guest serves many.
 *
 * Over a virtual-network connection (which has synchronous calls, {@linkcode SyncConnection})
 * the runner reads the guest's answer as it is written: the stream calls back when the guest
 * sends, and one microtask parses every connection that changed. A small answer then costs no
 * promise at all, and the request may arrive already encoded ({@linkcode Runner.handleWire}).
 * Streamed bodies, and connections without synchronous calls, are read with a pull reader.
 *
 * @module
 */

import type { VStream } from "../vnet/mod.ts";
import {
  encodeHead,
  type Framing,
  framingOf,
  latin1Decode,
  type ParsedResponseHead,
  parseResponseHead,
  ProxyProtocolError,
  requestHead,
} from "./http1.ts";
import type { RawRequest, RawResponse, Runner, WireResult } from "./runner.ts";

/**
 * A byte duplex to the guest, as a virtual-network connect returns it. Plain calls rather than
 * Web streams: every request crosses it twice, and stream machinery costs microseconds a chunk.
 */
export interface GuestConnection {
  /** The next bytes the guest wrote, or null once it closed its side. */
  read(): Promise<Uint8Array | null>;
  /** Hands bytes to the guest; resolves when they are buffered (backpressure). */
  write(chunk: Uint8Array): Promise<void>;
  /** Tears the connection down in both directions. */
  close(): void;
  /** Synchronous calls, when the connection has them (virtual-network connections do). */
  sync?: SyncConnection;
}

/** The synchronous side of a {@linkcode GuestConnection}: what reading as the guest writes needs. */
export interface SyncConnection {
  /**
   * Queues bytes for the guest now, whatever its buffer holds (the host bounds request sizes),
   * taking ownership of them.
   */
  write(chunk: Uint8Array): void;
  /** The next bytes the guest wrote; null at end of stream; undefined when nothing is there yet. */
  take(): Uint8Array | null | undefined;
  /** Calls `listener` synchronously whenever the connection changes; null stops it. */
  watch(listener: (() => void) | null): void;
}

/**
 * Adapts a readable and a writable stream to a {@linkcode GuestConnection}.
 *
 * @example
 * ```ts
 * import { connectionFromStreams } from "./proxy.ts";
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const conn = connectionFromStreams(pipe.readable, pipe.writable);
 * await conn.write(new Uint8Array([1]));
 * console.assert((await conn.read())?.[0] === 1);
 * ```
 */
export function connectionFromStreams(
  readable: ReadableStream<Uint8Array>,
  writable: WritableStream<Uint8Array>,
  close: () => void = () => {},
): GuestConnection {
  const reader = readable.getReader();
  const writer = writable.getWriter();
  return {
    async read() {
      const { value, done } = await reader.read();
      return done ? null : value;
    },
    async write(chunk) {
      await writer.ready;
      await writer.write(chunk);
    },
    close() {
      reader.cancel().catch(() => {});
      writer.abort().catch(() => {});
      close();
    },
  };
}

/**
 * Wraps the host's end of a virtual-network connection as a {@linkcode GuestConnection}, with
 * its synchronous calls.
 *
 * @example
 * ```ts ignore
 * import { createProxyRunner, vnetConnection } from "./proxy.ts";
 * const runner = createProxyRunner({ connect: () => Promise.resolve(vnetConnection(net.connect(8080))) });
 * ```
 */
export function vnetConnection(stream: VStream): GuestConnection {
  return {
    read: () => stream.readAsync(),
    write: (chunk) => stream.writeAsync(chunk),
    close: () => stream.close(),
    sync: {
      write: (chunk) => {
        stream.write(chunk);
      },
      take: () => stream.take(),
      watch: (listener) => stream.watch(listener),
    },
  };
}

/** Options for {@linkcode createProxyRunner}. */
export interface ProxyRunnerOptions {
  /** Opens a fresh connection to the guest's HTTP port. */
  connect(): Promise<GuestConnection>;
  /**
   * Requests in flight at once, each on its own kept-alive connection. Only a guest that
   * serves several connections at a time (an event loop over epoll or poll) may get more than
   * one: a blocking accept loop would leave the second connection in its backlog while it
   * waits for the next request on the first.
   * @default {1}
   */
  maxConnections?: number;
  /**
   * Largest response head (status line and headers) accepted from the guest, in bytes.
   * @default {65536}
   */
  maxHeadBytes?: number;
}

const CRLF = new Uint8Array([13, 10]);
const WRITE_CHUNK = 64 * 1024;
const EMPTY = new Uint8Array(0);
/** Bodies with a Content-Length up to this size are read whole and answered as plain data. */
const INLINE_BODY = 256 * 1024;
/** The guest closed a connection before any byte of its answer (a stale kept-alive one, maybe). */
const CLOSED_BEFORE_STATUS = "Guest closed the connection in the middle of a response status line";

/**
 * Serializes the head of an HTTP/1.1 request. The body length must be known: the host
 * buffers request bodies before they reach a Worker.
 *
 * @example
 * ```ts
 * import { serializeRequestHead } from "./proxy.ts";
 * const head = serializeRequestHead(new Request("http://a.localhost/x?y=1"), 0);
 * console.assert(new TextDecoder().decode(head).startsWith("GET /x?y=1 HTTP/1.1\r\n"));
 * ```
 */
export function serializeRequestHead(request: Request, bodyLength: number): Uint8Array {
  return encodeHead(requestHead(request.method, request.url, request.headers, bodyLength));
}

/** The request as the bytes a guest reads: head, then body. */
function wireBytes(request: RawRequest): Uint8Array {
  const body = request.body;
  const head = encodeHead(
    requestHead(request.method, request.url, request.headers, body?.length ?? 0),
  );
  if (!body || body.length === 0) return head;
  return concat(head, body);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A pull-based byte reader with put-back, over a guest's readable side. */
class ByteReader {
  #read: () => Promise<Uint8Array | null>;
  #buf: Uint8Array;
  #eof = false;

  constructor(read: () => Promise<Uint8Array | null>, buffered: Uint8Array = EMPTY) {
    this.#read = read;
    this.#buf = buffered;
  }

  get buffered(): number {
    return this.#buf.length;
  }

  /** Every buffered byte, without consuming it. */
  peek(): Uint8Array {
    return this.#buf;
  }

  /** Reads more bytes into the buffer; false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.#eof) return false;
    const value = await this.#read();
    if (value === null) {
      this.#eof = true;
      return false;
    }
    if (value.length === 0) return true;
    this.#buf = this.#buf.length === 0 ? value : concat(this.#buf, value);
    return true;
  }

  /** Index of `pattern` in the buffer at or after `from`, or -1. */
  indexOf(pattern: Uint8Array, from = 0): number {
    const buf = this.#buf;
    outer: for (let i = from; i <= buf.length - pattern.length; i++) {
      for (let j = 0; j < pattern.length; j++) {
        if (buf[i + j] !== pattern[j]) continue outer;
      }
      return i;
    }
    return -1;
  }

  /** Removes and returns the first `n` buffered bytes (n <= buffered). */
  take(n: number): Uint8Array {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Reads exactly `n` bytes (a fresh copy), or throws when the stream ends first. */
  async exactly(n: number, what: () => string): Promise<Uint8Array> {
    if (this.#buf.length >= n) return this.take(n).slice();
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      if (this.#buf.length === 0 && !(await this.fill())) {
        throw new ProxyProtocolError(what().replace("%d", String(n - at)));
      }
      const part = this.take(Math.min(n - at, this.#buf.length));
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Reads a CRLF-terminated line (without the CRLF), at most `limit` bytes. */
  async line(limit: number, what: string): Promise<string> {
    let from = 0;
    while (true) {
      const at = this.indexOf(CRLF, from);
      if (at >= 0) {
        const line = latin1Decode(this.take(at));
        this.take(2);
        return line;
      }
      if (this.#buf.length > limit) {
        throw new ProxyProtocolError(`Guest sent a ${what} longer than ${limit} bytes`);
      }
      from = Math.max(0, this.#buf.length - 1);
      if (!(await this.fill())) {
        throw new ProxyProtocolError(`Guest closed the connection in the middle of a ${what}`);
      }
    }
  }
}

/** The error for a guest that closed its side partway through a response head. */
function closedMidHead(buffered: Uint8Array): ProxyProtocolError {
  return new ProxyProtocolError(
    buffered.length === 0 || buffered.indexOf(10) < 0
      ? CLOSED_BEFORE_STATUS
      : "Guest closed the connection in the middle of a response header",
  );
}

async function readHead(reader: ByteReader, maxHeadBytes: number): Promise<ParsedResponseHead> {
  while (true) {
    const head = reader.buffered > 0 ? parseResponseHead(reader.peek(), maxHeadBytes) : null;
    if (head !== null) {
      reader.take(head.size);
      return head;
    }
    if (!(await reader.fill())) throw closedMidHead(reader.peek());
  }
}

/**
 * Parses one HTTP/1.1 response from a guest's byte stream. The body is streamed; `done`
 * settles with true when the connection can carry another request, and with false when it must
 * be closed (close-delimited body, `Connection: close`, protocol error, or a cancelled body).
 *
 * @throws {ProxyProtocolError} when the response head is malformed or the guest closes early.
 */
export async function readResponse(
  reader: ByteReaderLike,
  method: string,
  maxHeadBytes = 65536,
): Promise<{ response: Response; done: Promise<boolean> }> {
  const { raw, response, done } = await readRaw(reader as ByteReader, method, maxHeadBytes, 0);
  return { response: response ?? toResponse(raw!), done };
}

/** Builds a `Response` from plain data. */
function toResponse(raw: RawResponse): Response {
  return new Response(raw.body as Uint8Array<ArrayBuffer> | null, raw);
}

/** Reads interim (1xx) heads away and returns the final one. */
async function finalHead(r: ByteReader, maxHeadBytes: number): Promise<ParsedResponseHead> {
  let head = await readHead(r, maxHeadBytes);
  // Interim 1xx responses (100 Continue, 103 Early Hints) are dropped; the final one follows.
  while (head.status < 200 && head.status !== 101) head = await readHead(r, maxHeadBytes);
  if (head.status === 101) throw new ProxyProtocolError("Guest switched protocols; not supported");
  return head;
}

/**
 * Reads a response head and either the whole body (a Content-Length body up to `inlineBody`
 * bytes, or none) as plain data, or a streamed `Response`.
 */
async function readRaw(
  r: ByteReader,
  method: string,
  maxHeadBytes: number,
  inlineBody: number,
): Promise<{ raw?: RawResponse; response?: Response; done: Promise<boolean> }> {
  const head = await finalHead(r, maxHeadBytes);
  const framing = framingOf(method, head.status, head.transferEncoding, head.contentLength);
  const headers = headersFor(method, head);
  const init = { status: head.status, statusText: head.statusText, headers };
  if (framing.kind === "none" || (framing.kind === "length" && framing.length === 0)) {
    return { raw: { ...init, body: null }, done: Promise.resolve(head.keepAlive) };
  }
  if (framing.kind === "length" && framing.length <= inlineBody) {
    const body = await r.exactly(
      framing.length,
      () => "Guest closed the connection with %d body bytes still to send",
    );
    return { raw: { ...init, body }, done: Promise.resolve(head.keepAlive) };
  }
  let settle!: (reusable: boolean) => void;
  const done = new Promise<boolean>((resolve) => settle = resolve);
  const body = bodyStream(r, framing, (ok) => settle(ok && head.keepAlive));
  return { response: new Response(body, init), done };
}

/**
 * The headers to answer with: the guest's, and for a HEAD request its Content-Length too, which
 * says how long the body of a GET would be (`Deno.serve` keeps it on a bodiless HEAD answer).
 */
function headersFor(method: string, head: ParsedResponseHead): [string, string][] {
  return method === "HEAD" && head.contentLength !== undefined
    ? [...head.headers, ["content-length", head.contentLength]]
    : head.headers;
}

/** Opaque reader type accepted by {@linkcode readResponse}; make one with {@linkcode byteReader}. */
export type ByteReaderLike = { readonly buffered: number };

/** Wraps a readable stream for {@linkcode readResponse}. */
export function byteReader(readable: ReadableStream<Uint8Array>): ByteReaderLike {
  const reader = readable.getReader();
  return new ByteReader(async () => {
    const { value, done } = await reader.read();
    return done ? null : value;
  });
}

function bodyStream(
  reader: ByteReader,
  framing: Framing,
  finish: (reusable: boolean) => void,
): ReadableStream<Uint8Array> {
  let remaining = framing.kind === "length" ? framing.length : 0;
  let chunkLeft = 0;
  let chunkedState: "size" | "data" | "data-crlf" | "trailers" = "size";
  let finished = false;
  const end = (ok: boolean) => {
    if (!finished) {
      finished = true;
      finish(ok);
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (framing.kind === "close") {
          if (reader.buffered === 0 && !(await reader.fill())) {
            controller.close();
            return end(false);
          }
          controller.enqueue(reader.take(reader.buffered).slice());
          return;
        }
        if (framing.kind === "length") {
          if (reader.buffered === 0 && !(await reader.fill())) {
            throw new ProxyProtocolError(
              `Guest closed the connection with ${remaining} body bytes still to send`,
            );
          }
          const n = Math.min(remaining, reader.buffered);
          controller.enqueue(reader.take(n).slice());
          remaining -= n;
          if (remaining === 0) {
            controller.close();
            end(true);
          }
          return;
        }
        // Chunked (RFC 9112 section 7.1). Loop until one chunk of data is enqueued or the end.
        while (true) {
          if (chunkedState === "size") {
            const line = await reader.line(4096, "chunk size line");
            const size = /^([0-9a-fA-F]{1,8})(?:\s*;.*)?\s*$/.exec(line);
            if (!size) {
              throw new ProxyProtocolError(
                `Guest sent a malformed chunk size ${JSON.stringify(line.slice(0, 40))}`,
              );
            }
            chunkLeft = parseInt(size[1], 16);
            chunkedState = chunkLeft === 0 ? "trailers" : "data";
            continue;
          }
          if (chunkedState === "data") {
            if (reader.buffered === 0 && !(await reader.fill())) {
              throw new ProxyProtocolError("Guest closed the connection inside a body chunk");
            }
            const n = Math.min(chunkLeft, reader.buffered);
            controller.enqueue(reader.take(n).slice());
            chunkLeft -= n;
            if (chunkLeft === 0) chunkedState = "data-crlf";
            return;
          }
          if (chunkedState === "data-crlf") {
            const line = await reader.line(2, "chunk terminator");
            if (line !== "") throw new ProxyProtocolError("Guest sent a chunk without its CRLF");
            chunkedState = "size";
            continue;
          }
          // Trailers are read and dropped.
          const trailer = await reader.line(8192, "chunked trailer");
          if (trailer === "") {
            controller.close();
            return end(true);
          }
        }
      } catch (err) {
        end(false);
        controller.error(err);
      }
    },
    cancel() {
      end(false);
    },
  }, { highWaterMark: 0 });
}

async function writeAll(conn: GuestConnection, bytes: Uint8Array) {
  for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
    await conn.write(bytes.subarray(at, at + WRITE_CHUNK));
  }
}

/** One request on its way through the runner. */
interface Job {
  method: string;
  /** Head and body, as the guest reads them. */
  bytes: Uint8Array;
  respond: (result: WireResult) => void;
  /** True once it was sent again on a fresh connection. */
  retried: boolean;
}

/** One connection to the guest. */
interface Live {
  conn: GuestConnection;
  /** The pull reader, while one reads this connection; null while answers are read as written. */
  reader: ByteReader | null;
  /** Bytes the guest wrote that no answer took yet (read-as-written connections). */
  buf: Uint8Array;
  /** The guest closed its side. */
  eof: boolean;
  job: Job | null;
  /** It carried an earlier request (a kept-alive connection the guest may have closed). */
  reused: boolean;
  dead: boolean;
}

/** Connections an event-loop guest gets at once (the host sends at most 16 requests per instance). */
const EVENT_LOOP_CONNECTIONS = 16;

/**
 * How many connections the proxy runner may keep open to a guest: several when it waits with
 * `epoll_wait` (it serves many connections at a time), otherwise one, because a guest that
 * blocks in `accept` would hang on a second.
 *
 * @example
 * ```ts ignore
 * const runner = createProxyRunner({ connect, maxConnections: guestConnections(module) });
 * ```
 */
export function guestConnections(module: WebAssembly.Module): number {
  const epoll = WebAssembly.Module.imports(module).some((i) =>
    i.module.startsWith("wasix_") && i.name === "epoll_wait"
  );
  return epoll ? EVENT_LOOP_CONNECTIONS : 1;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Creates the proxy runner over a guest that already listens.
 *
 * @example
 * ```ts ignore
 * import { createProxyRunner, vnetConnection } from "./proxy.ts";
 * const runner = createProxyRunner({ connect: async () => vnetConnection(net.connect(8080)) });
 * const res = await runner.handle(new Request("http://app.localhost/"));
 * ```
 */
export function createProxyRunner(options: ProxyRunnerOptions): Runner {
  const maxHeadBytes = options.maxHeadBytes ?? 65536;
  const maxConnections = Math.max(1, Math.floor(options.maxConnections ?? 1));
  /** Kept-alive connections with no request on them, most recently used last. */
  const idle: Live[] = [];
  /** Connections open or being opened (idle ones included). */
  let open = 0;
  /** Requests waiting for a connection, oldest first. */
  const waiting: Job[] = [];
  /** Read-as-written connections that changed since the last parse. */
  let changed: Live[] = [];
  let parseQueued = false;

  function submit(job: Job): void {
    const live = idle.pop();
    if (live !== undefined) start(live, job, true);
    else if (open < maxConnections) {
      open++;
      connectFor(job);
    } else waiting.push(job);
  }

  /** Opens a connection for `job`; the caller has counted it in `open`. */
  function connectFor(job: Job): void {
    let connecting: Promise<GuestConnection>;
    try {
      connecting = options.connect();
    } catch (err) {
      connecting = Promise.reject(err); // a connect that throws fails this request only
    }
    connecting.then(
      (conn) => {
        const live: Live = {
          conn,
          reader: conn.sync ? null : new ByteReader(() => conn.read()),
          buf: EMPTY,
          eof: false,
          job: null,
          reused: false,
          dead: false,
        };
        conn.sync?.watch(() => noteChange(live));
        start(live, job, false);
      },
      (err) => {
        open--;
        job.respond(asError(err));
        next();
      },
    );
  }

  /** A connection slot became free: hand it to the oldest waiting request. */
  function next(): void {
    const job = waiting.shift();
    if (job !== undefined) submit(job);
  }

  function start(live: Live, job: Job, reused: boolean): void {
    live.job = job;
    live.reused = reused;
    if (live.reader !== null) {
      exchange(live, job);
      return;
    }
    try {
      live.conn.sync!.write(job.bytes);
    } catch (err) {
      failed(live, err, true);
    }
  }

  function discard(live: Live): void {
    live.dead = true;
    live.conn.sync?.watch(null);
    try {
      live.conn.close();
    } catch { /* already closed */ }
  }

  /** Gives back a connection once its answer has been fully read (or dropped). */
  function release(live: Live, reusable: boolean): void {
    live.job = null;
    if (reusable && !live.dead) idle.push(live);
    else {
      discard(live);
      open--;
    }
    next();
  }

  /**
   * The request on `live` failed. When the guest had closed a kept-alive connection before any
   * of the answer came (`retryable`), the request goes once more on a fresh connection.
   */
  function failed(live: Live, err: unknown, retryable: boolean): void {
    const job = live.job!;
    live.job = null;
    discard(live);
    if (retryable && live.reused && !job.retried) {
      job.retried = true;
      connectFor(job); // the fresh connection takes over this one's slot
      return;
    }
    open--;
    job.respond(asError(err));
    next();
  }

  /** Pull path: write the request, then read the answer with the connection's reader. */
  async function exchange(live: Live, job: Job): Promise<void> {
    try {
      await writeAll(live.conn, job.bytes);
      const result = await readRaw(live.reader!, job.method, maxHeadBytes, INLINE_BODY);
      // The connection carries the next request once this answer has been read whole.
      result.done.then((reusable) => release(live, reusable));
      job.respond(result.raw ?? result.response!);
    } catch (err) {
      const closedEarly = err instanceof ProxyProtocolError && err.message === CLOSED_BEFORE_STATUS;
      failed(live, err, closedEarly || !(err instanceof ProxyProtocolError));
    }
  }

  /** Called inside the guest's write: note the connection, parse once the guest yields. */
  function noteChange(live: Live): void {
    changed.push(live);
    if (!parseQueued) {
      parseQueued = true;
      queueMicrotask(parseChanged);
    }
  }

  function parseChanged(): void {
    parseQueued = false;
    const batch = changed;
    changed = [];
    for (const live of batch) parse(live);
  }

  /** Read-as-written path: takes what the guest wrote and answers the request once it is whole. */
  function parse(live: Live): void {
    if (live.dead || live.reader !== null) return;
    const sync = live.conn.sync!;
    while (!live.eof) {
      const chunk = sync.take();
      if (chunk === undefined) break;
      if (chunk === null) live.eof = true;
      else live.buf = live.buf.length === 0 ? chunk : concat(live.buf, chunk);
    }
    const job = live.job;
    if (job === null) {
      // An idle connection the guest closed, or wrote to unasked: it cannot carry a request.
      const at = live.eof || live.buf.length > 0 ? idle.indexOf(live) : -1;
      if (at >= 0) {
        idle.splice(at, 1);
        discard(live);
        open--;
        next();
      }
      return;
    }
    let head: ParsedResponseHead | null;
    let framing: Framing;
    try {
      head = parseResponseHead(live.buf, maxHeadBytes);
      // Interim 1xx responses (100 Continue, 103 Early Hints) are dropped; the final one follows.
      while (head !== null && head.status < 200 && head.status !== 101) {
        live.buf = live.buf.subarray(head.size);
        head = parseResponseHead(live.buf, maxHeadBytes);
      }
      if (head === null) {
        if (!live.eof) return; // more is on its way
        if (live.buf.length === 0) {
          return failed(live, new ProxyProtocolError(CLOSED_BEFORE_STATUS), true);
        }
        throw closedMidHead(live.buf);
      }
      if (head.status === 101) {
        throw new ProxyProtocolError("Guest switched protocols; not supported");
      }
      framing = framingOf(job.method, head.status, head.transferEncoding, head.contentLength);
    } catch (err) {
      return failed(live, err, false);
    }
    const length = framing.kind === "none" ? 0 : framing.kind === "length" ? framing.length : -1;
    if (length >= 0 && length <= INLINE_BODY) {
      const end = head.size + length;
      if (live.buf.length < end) {
        if (!live.eof) return; // the rest of the body is on its way
        const missing = end - live.buf.length;
        return failed(
          live,
          new ProxyProtocolError(
            `Guest closed the connection with ${missing} body bytes still to send`,
          ),
          false,
        );
      }
      // A view, not a copy: the chunk is this runner's own (the guest's bytes were copied once,
      // when it sent them), and nothing writes to it.
      const body = length === 0 ? null : live.buf.subarray(head.size, end);
      const extra = live.buf.length > end;
      live.buf = EMPTY;
      job.respond({
        status: head.status,
        statusText: head.statusText,
        headers: headersFor(job.method, head),
        body,
      });
      release(live, head.keepAlive && !extra && !live.eof);
      return;
    }
    // A streamed body: a pull reader takes the connection over until the body ends.
    const reader = new ByteReader(() => live.conn.read(), live.buf.subarray(head.size));
    live.buf = EMPTY;
    live.reader = reader;
    const keepAlive = head.keepAlive;
    const body = bodyStream(reader, framing, (ok) => {
      live.reader = null;
      release(live, ok && keepAlive && reader.buffered === 0);
    });
    job.respond(
      new Response(body, {
        status: head.status,
        statusText: head.statusText,
        headers: head.headers,
      }),
    );
  }

  function run(method: string, bytes: Uint8Array): Promise<RawResponse | Response> {
    return new Promise((resolve, reject) => {
      submit({
        method,
        bytes,
        retried: false,
        respond: (result) => result instanceof Error ? reject(result) : resolve(result),
      });
    });
  }

  return {
    async handle(request: Request): Promise<Response> {
      const body = request.body ? new Uint8Array(await request.arrayBuffer()) : null;
      const result = await run(
        request.method,
        wireBytes({
          method: request.method,
          url: request.url,
          headers: [...request.headers],
          body,
        }),
      );
      return result instanceof Response ? result : toResponse(result);
    },
    handleRaw: (request) => run(request.method, wireBytes(request)),
    handleWire(method, bytes, respond) {
      submit({ method, bytes, respond, retried: false });
    },
  };
}
