/**
 * The proxy runner: the guest is an HTTP/1.1 server listening on a virtual port (or on the
 * pre-opened fd 3 of a preview1 server). Each request is written into a virtual connection and
 * the guest's answer is parsed back into a streamed {@linkcode Response}.
 *
 * Connections are kept alive and reused. By default one request is in flight at a time, because
 * many guests are single-threaded accept loops: a second connection would wait in the backlog
 * while the guest keeps reading the first. Event-loop guests can be given several connections
 * (`maxConnections`), one request on each, so that one wake-up of the guest serves many.
 *
 * @module
 */

import type { RawRequest, RawResponse, Runner } from "./runner.ts";

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

/**
 * The guest broke the HTTP/1.1 protocol or went away. The host answers it with a 502.
 *
 * @example
 * ```ts
 * import { ProxyProtocolError } from "./proxy.ts";
 * const err = new ProxyProtocolError("Guest closed the connection before the response head");
 * console.assert(err.status === 502);
 * ```
 */
export class ProxyProtocolError extends Error {
  /** HTTP status the host answers with. */
  readonly status = 502;
  /** Creates the error; `message` names what the guest did wrong. */
  constructor(message: string) {
    super(message);
    this.name = "ProxyProtocolError";
  }
}

const CRLF = new Uint8Array([13, 10]);
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "content-length",
]);
const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const WRITE_CHUNK = 64 * 1024;
// RFC 9110 field-value characters: visible ASCII, space, tab and obs-text.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Bodies with a Content-Length up to this size are read whole and answered as plain data. */
const INLINE_BODY = 256 * 1024;

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
  return serializeHead(request.method, request.url, request.headers, bodyLength);
}

function serializeHead(
  method: string,
  rawUrl: string,
  headers: Iterable<[string, string]>,
  bodyLength: number,
): Uint8Array {
  // The path starts at the first "/" after "scheme://host".
  const slash = rawUrl.indexOf("/", rawUrl.indexOf("//") + 2);
  const target = slash < 0 ? "/" : rawUrl.slice(slash).replace(/#.*$/, "");
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let hasHost = false;
  for (const [name, value] of headers) {
    if (HOP_BY_HOP.has(name)) continue;
    if (name === "host") hasHost = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!hasHost) head += `host: ${new URL(rawUrl).host}\r\n`;
  const bodyAllowed = bodyLength > 0 || !(method === "GET" || method === "HEAD");
  if (bodyAllowed) head += `content-length: ${bodyLength}\r\n`;
  head += "connection: keep-alive\r\n\r\n";
  return asciiEncode(head);
}

/** UTF-8 encodes `text`; plain ASCII (every usual head) without a call into the runtime. */
function asciiEncode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return encoder.encode(text);
    out[i] = c;
  }
  return out;
}

/** Decodes latin1 bytes; small heads without a call into the runtime. */
function latin1Decode(bytes: Uint8Array): string {
  if (bytes.length > 4096) return latin1.decode(bytes);
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** A pull-based byte reader with put-back, over a guest's readable side. */
class ByteReader {
  #read: () => Promise<Uint8Array | null>;
  #buf: Uint8Array = new Uint8Array(0);
  #eof = false;

  constructor(read: () => Promise<Uint8Array | null>) {
    this.#read = read;
  }

  get buffered(): number {
    return this.#buf.length;
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
    if (this.#buf.length === 0) this.#buf = value;
    else {
      const merged = new Uint8Array(this.#buf.length + value.length);
      merged.set(this.#buf);
      merged.set(value, this.#buf.length);
      this.#buf = merged;
    }
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

  /**
   * The lines of a response head (status line and headers, without the blank line) when the
   * whole head, starting with "H", is buffered within `limit` bytes; it is consumed. Null
   * otherwise, and nothing is consumed.
   */
  headBlock(limit: number): string[] | null {
    const buf = this.#buf;
    if (buf.length === 0 || buf[0] !== 72) return null;
    const end = Math.min(buf.length, limit + 4);
    for (let i = 0; i + 3 < end; i++) {
      if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) {
        const text = latin1Decode(buf.subarray(0, i));
        this.#buf = buf.subarray(i + 4);
        return text.split("\r\n");
      }
    }
    return null;
  }

  /** Reads a CRLF-terminated line (without the CRLF), at most `limit` bytes. */
  async line(limit: number, what: string): Promise<string> {
    let from = 0;
    while (true) {
      const at = this.indexOf(CRLF, from);
      if (at >= 0) {
        const line = latin1.decode(this.take(at));
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

/** How a response body is framed on the wire. */
type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** A parsed response head. */
export interface ResponseHead {
  /** Status code, 100-999. */
  status: number;
  /** Reason phrase as sent. */
  statusText: string;
  /** Header pairs (lower-case names) without the hop-by-hop ones. */
  headers: [string, string][];
  /** False when the guest asked to close the connection after this response. */
  keepAlive: boolean;
}

async function readHead(
  reader: ByteReader,
  maxHeadBytes: number,
): Promise<ResponseHead & { framingHeaders: { te?: string; cl?: string } }> {
  // Usually the whole head has arrived already: split it at once instead of line by line.
  if (reader.buffered === 0) await reader.fill(); // at EOF, line() below reports it
  const block = reader.headBlock(maxHeadBytes);
  let at = 0;
  let statusLine = block ? block[at++] : await reader.line(maxHeadBytes, "response status line");
  // Tolerate stray blank lines before the status line (RFC 9112 section 2.2).
  while (statusLine === "") statusLine = await reader.line(maxHeadBytes, "response status line");
  const match = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!match) {
    throw new ProxyProtocolError(
      `Guest sent a malformed status line ${JSON.stringify(statusLine.slice(0, 80))}; ` +
        `expected "HTTP/1.1 200 OK"`,
    );
  }
  const http10 = match[1] === "0";
  const status = Number(match[2]);
  if (status < 100) {
    throw new ProxyProtocolError(`Guest sent status ${status}, which is below 100`);
  }
  const headers: [string, string][] = [];
  const framingHeaders: { te?: string; cl?: string } = {};
  let connection = "";
  let total = statusLine.length;
  while (true) {
    const line = block
      ? (at < block.length ? block[at++] : "")
      : await reader.line(maxHeadBytes, "response header");
    if (line === "") break;
    total += line.length + 2;
    if (total > maxHeadBytes) {
      throw new ProxyProtocolError(`Guest sent response headers longer than ${maxHeadBytes} bytes`);
    }
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
      throw new ProxyProtocolError(
        `Guest sent a malformed header line ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const value = line.slice(colon + 1).trim();
    if (name === "transfer-encoding") framingHeaders.te = value.toLowerCase();
    else if (name === "content-length") {
      if (framingHeaders.cl !== undefined && framingHeaders.cl !== value) {
        throw new ProxyProtocolError("Guest sent conflicting Content-Length headers");
      }
      framingHeaders.cl = value;
    } else if (name === "connection") connection = value.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    if (!FIELD_VALUE.test(value)) {
      throw new ProxyProtocolError(`Guest sent an invalid value for header ${name}`);
    }
    headers.push([name, value]);
  }
  const keepAlive = http10 ? connection.includes("keep-alive") : !connection.includes("close");
  return { status, statusText: match[3] ?? "", headers, keepAlive, framingHeaders };
}

function framingOf(
  method: string,
  status: number,
  te: string | undefined,
  cl: string | undefined,
): Framing {
  if (method === "HEAD" || status === 204 || status === 304 || status < 200) {
    return { kind: "none" };
  }
  if (te !== undefined) {
    if (te.split(",").map((s) => s.trim()).at(-1) === "chunked") return { kind: "chunked" };
    return { kind: "close" };
  }
  if (cl !== undefined) {
    if (!/^\d{1,15}$/.test(cl)) {
      throw new ProxyProtocolError(`Guest sent an invalid Content-Length ${JSON.stringify(cl)}`);
    }
    return { kind: "length", length: Number(cl) };
  }
  return { kind: "close" };
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
  let head = await readHead(r, maxHeadBytes);
  // Interim 1xx responses (100 Continue, 103 Early Hints) are dropped; the final one follows.
  while (head.status < 200 && head.status !== 101) head = await readHead(r, maxHeadBytes);
  if (head.status === 101) throw new ProxyProtocolError("Guest switched protocols; not supported");
  const framing = framingOf(method, head.status, head.framingHeaders.te, head.framingHeaders.cl);
  const init = { status: head.status, statusText: head.statusText, headers: head.headers };
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

interface LiveConnection {
  conn: GuestConnection;
  reader: ByteReader;
}

/**
 * Creates the proxy runner over a guest that already listens.
 *
 * @example
 * ```ts ignore
 * import { createProxyRunner } from "./proxy.ts";
 * const runner = createProxyRunner({ connect: async () => guestConnection(net.connect(8080)) });
 * const res = await runner.handle(new Request("http://app.localhost/"));
 * ```
 */
/** Connections an event-loop guest gets at once (the host sends at most 16 requests per instance). */
const EVENT_LOOP_CONNECTIONS = 16;

/**
 * How many connections the proxy runner may keep open to a guest: several when it waits with
 * `epoll_wait` (it serves many connections at a time), otherwise one, because a guest that
 * blocks in `accept` would hang on a second.
 *
 * @example
 * ```ts
 * const runner = createProxyRunner({ connect, maxConnections: guestConnections(module) });
 * ```
 */
export function guestConnections(module: WebAssembly.Module): number {
  const epoll = WebAssembly.Module.imports(module).some((i) =>
    i.module.startsWith("wasix_") && i.name === "epoll_wait"
  );
  return epoll ? EVENT_LOOP_CONNECTIONS : 1;
}

export function createProxyRunner(options: ProxyRunnerOptions): Runner {
  const maxHeadBytes = options.maxHeadBytes ?? 65536;
  const maxConnections = Math.max(1, Math.floor(options.maxConnections ?? 1));
  /** Kept-alive connections with no request on them, most recently used last. */
  const idle: LiveConnection[] = [];
  /** Connections open or being opened (idle ones included). */
  let open = 0;
  /** Requests waiting for a connection, oldest first. */
  const waiting: (() => void)[] = [];

  async function connect(): Promise<LiveConnection> {
    const conn = await options.connect();
    return { conn, reader: new ByteReader(() => conn.read()) };
  }

  function discard(live: LiveConnection) {
    try {
      live.conn.close();
    } catch { /* already closed */ }
  }

  /** A connection slot became free: hand it to the oldest waiting request. */
  function wakeNext() {
    const next = waiting.shift();
    if (next) next();
  }

  /** Gives back a connection once its response has been fully read (or dropped). */
  function release(live: LiveConnection, reusable: boolean) {
    if (reusable) idle.push(live);
    else {
      discard(live);
      open--;
    }
    wakeNext();
  }

  /**
   * Takes an idle connection, or reserves a new one (undefined), waiting while every allowed
   * connection carries a request.
   */
  async function slot(): Promise<LiveConnection | undefined> {
    while (idle.length === 0 && open >= maxConnections) {
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    const live = idle.pop();
    if (live === undefined) open++;
    return live;
  }

  async function exchange(
    request: RawRequest,
  ): Promise<{ raw?: RawResponse; response?: Response }> {
    const body = request.body ?? new Uint8Array(0);
    const head = serializeHead(request.method, request.url, request.headers, body.length);
    let live: LiveConnection | undefined;
    if (idle.length > 0) live = idle.pop();
    else if (open < maxConnections) open++;
    else live = await slot();
    // A kept-alive connection may have been closed by the guest meanwhile; retry once on a
    // fresh one when nothing of the response arrived.
    for (let attempt = 0;; attempt++) {
      const reused = live !== undefined;
      try {
        live ??= await connect();
      } catch (err) {
        open--;
        wakeNext();
        throw err;
      }
      try {
        if (body.length > 0 && head.length + body.length <= WRITE_CHUNK) {
          const both = new Uint8Array(head.length + body.length);
          both.set(head);
          both.set(body, head.length);
          await live.conn.write(both);
        } else {
          await writeAll(live.conn, head);
          if (body.length) await writeAll(live.conn, body);
        }
        const result = await readRaw(live.reader, request.method, maxHeadBytes, INLINE_BODY);
        const current = live;
        // The connection carries the next request once this response has been read whole.
        result.done.then((reusable) => release(current, reusable));
        return result;
      } catch (err) {
        discard(live);
        live = undefined;
        const closedEarly = err instanceof ProxyProtocolError &&
          err.message.includes("closed the connection in the middle of a response status");
        if (!(reused && attempt === 0 && (closedEarly || !(err instanceof ProxyProtocolError)))) {
          open--;
          wakeNext();
          throw err;
        }
      }
    }
  }

  async function queue(request: RawRequest): Promise<RawResponse | Response> {
    const result = await exchange(request);
    return result.raw ?? result.response!;
  }

  return {
    async handle(request: Request): Promise<Response> {
      const body = request.body ? new Uint8Array(await request.arrayBuffer()) : null;
      const result = await queue({
        method: request.method,
        url: request.url,
        headers: [...request.headers],
        body,
      });
      return result instanceof Response ? result : toResponse(result);
    },
    handleRaw: queue,
  };
}
