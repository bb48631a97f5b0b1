/**
 * HTTP/1.1 on the wire between the host and a proxy guest: the request head the host writes
 * into a virtual connection, and the response head the guest writes back. Plain string and byte
 * work with no I/O, shared by the host's main thread (which encodes each request once, so the
 * instance Worker hands the bytes to the guest untouched) and the proxy runner.
 *
 * @module
 */

/**
 * The guest broke the HTTP/1.1 protocol or went away. The host answers it with a 502.
 *
 * @example
 * ```ts
 * import { ProxyProtocolError } from "./http1.ts";
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

/** Headers that describe one connection, not the message: never forwarded either way. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "content-length",
]);

/**
 * The head of an HTTP/1.1 request for a guest, blank line included: the request line with the
 * URL's path and query, the headers without hop-by-hop ones (a `host` added when missing), a
 * `content-length` when there is a body or the method may carry one, and `connection:
 * keep-alive`. The body length must be known: the host buffers request bodies.
 *
 * @example
 * ```ts
 * import { requestHead } from "./http1.ts";
 * const head = requestHead("GET", "http://a.localhost/x?y=1#f", [["accept", "*\/*"]], 0);
 * console.assert(head === "GET /x?y=1 HTTP/1.1\r\naccept: *\/*\r\nhost: a.localhost\r\nconnection: keep-alive\r\n\r\n");
 * ```
 */
export function requestHead(
  method: string,
  url: string,
  headers: Iterable<readonly [string, string]>,
  bodyLength: number,
): string {
  // The target starts at the first "/" after "scheme://host" and ends before any fragment.
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  const hash = url.indexOf("#");
  const target = slash < 0 ? "/" : hash < 0 ? url.slice(slash) : url.slice(slash, hash);
  let head = method + " " + target + " HTTP/1.1\r\n";
  let hasHost = false;
  for (const [name, value] of headers) {
    if (HOP_BY_HOP.has(name)) continue;
    if (name === "host") hasHost = true;
    head += name + ": " + value + "\r\n";
  }
  if (!hasHost) head += "host: " + new URL(url).host + "\r\n";
  if (bodyLength > 0 || !(method === "GET" || method === "HEAD")) {
    head += "content-length: " + bodyLength + "\r\n";
  }
  return head + "connection: keep-alive\r\n\r\n";
}

/**
 * Encodes a head as bytes: each character as one byte when all are ASCII (every usual head,
 * without a call into the runtime), else UTF-8.
 *
 * @example
 * ```ts
 * import { encodeHead } from "./http1.ts";
 * console.assert(encodeHead("GET / HTTP/1.1\r\n\r\n").length === 18);
 * ```
 */
export function encodeHead(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return new TextEncoder().encode(text);
    out[i] = c;
  }
  return out;
}

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

/** A response head as {@linkcode parseResponseHead} finds it at the start of a buffer. */
export interface ParsedResponseHead extends ResponseHead {
  /** The `Transfer-Encoding` value, lower-cased, when there is one. */
  transferEncoding?: string;
  /** The `Content-Length` value, when there is one. */
  contentLength?: string;
  /** Bytes the head took in the buffer, from its start to the end of the blank line. */
  size: number;
}

/** How a response body is framed on the wire. */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** RFC 9110 token characters (header names), upper case included: 1 where allowed. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[c.charCodeAt(0)] = 1;
}

const utf8 = new TextDecoder();

/**
 * Decodes bytes as latin1, one character per byte. All-ASCII bytes (every usual head) go through
 * the UTF-8 decoder, which reads them the same and is three times faster than building the string
 * in JavaScript; any other byte is read exactly (WHATWG's "latin1" decoder is windows-1252, which
 * maps 0x80-0x9f elsewhere).
 *
 * @example
 * ```ts
 * import { latin1Decode } from "./http1.ts";
 * console.assert(latin1Decode(new Uint8Array([0x41, 0x80])) === "A\x80");
 * ```
 */
export function latin1Decode(bytes: Uint8Array): string {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] > 127) {
      let text = "";
      for (let at = 0; at < bytes.length; at += 4096) {
        const part = bytes.subarray(at, at + 4096);
        text += String.fromCharCode.apply(null, part as unknown as number[]);
      }
      return text;
    }
  }
  return utf8.decode(bytes);
}

/**
 * Parses the response head at the start of `buf` (stray blank lines before the status line are
 * skipped, as RFC 9112 section 2.2 allows). Returns null while the head is incomplete.
 *
 * @example
 * ```ts
 * import { parseResponseHead } from "./http1.ts";
 * const bytes = new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
 * const head = parseResponseHead(bytes, 65536)!;
 * console.assert(head.status === 200 && head.contentLength === "2" && head.size === 38);
 * ```
 *
 * @throws {ProxyProtocolError} when the head is malformed or longer than `maxHeadBytes`.
 */
export function parseResponseHead(
  buf: Uint8Array,
  maxHeadBytes: number,
): ParsedResponseHead | null {
  let start = 0;
  while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
  // The blank line ending the head: the first CR LF CR LF (a plain loop: this runs per answer).
  let end = -1;
  const limit = Math.min(buf.length, start + maxHeadBytes + 4);
  for (let i = start + 3; i < limit; i++) {
    if (buf[i] === 10 && buf[i - 2] === 10 && buf[i - 1] === 13 && buf[i - 3] === 13) {
      end = i - 3;
      break;
    }
  }
  if (end < 0) {
    if (buf.length - start > maxHeadBytes + 3) {
      throw new ProxyProtocolError(`Guest sent response headers longer than ${maxHeadBytes} bytes`);
    }
    // A status line that cannot be one fails now rather than when the guest goes quiet.
    const lineEnd = buf.indexOf(13, start);
    if (lineEnd >= 0) {
      const line = latin1Decode(buf.subarray(start, lineEnd));
      if (!isStatusLine(line)) throw malformedStatus(line);
    }
    return null;
  }
  const text = latin1Decode(buf.subarray(start, end));
  let eol = text.indexOf("\r\n");
  if (eol < 0) eol = text.length;
  const statusLine = text.slice(0, eol);
  if (!isStatusLine(statusLine)) throw malformedStatus(statusLine);
  const http10 = statusLine.charCodeAt(7) === 48; // "HTTP/1.0"
  const status = Number(statusLine.slice(9, 12));
  if (status < 100) throw new ProxyProtocolError(`Guest sent status ${status}, which is below 100`);
  const headers: [string, string][] = [];
  let transferEncoding: string | undefined;
  let contentLength: string | undefined;
  let connection = "";
  for (let at = eol + 2; at < text.length; at = eol + 2) {
    eol = text.indexOf("\r\n", at);
    if (eol < 0) eol = text.length;
    // name ":" OWS value OWS, the name a token (checked and lower-cased in one pass).
    let colon = at;
    let upper = false;
    for (; colon < eol; colon++) {
      const c = text.charCodeAt(colon);
      if (c >= 128 || TOKEN[c] === 0) break;
      if (c >= 65 && c <= 90) upper = true;
    }
    if (colon === at || colon === eol || text.charCodeAt(colon) !== 58) {
      throw new ProxyProtocolError(
        `Guest sent a malformed header line ${JSON.stringify(text.slice(at, eol).slice(0, 80))}`,
      );
    }
    const raw = text.slice(at, colon);
    const name = upper ? raw.toLowerCase() : raw;
    let from = colon + 1;
    let to = eol;
    while (from < to && isOws(text.charCodeAt(from))) from++;
    while (to > from && isOws(text.charCodeAt(to - 1))) to--;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      // RFC 9110 field-value characters: visible ASCII, space, tab and obs-text.
      if ((c < 32 && c !== 9) || c === 127) {
        throw new ProxyProtocolError(`Guest sent an invalid value for header ${name}`);
      }
    }
    const value = text.slice(from, to);
    if (HOP_BY_HOP.has(name)) {
      if (name === "transfer-encoding") transferEncoding = value.toLowerCase();
      else if (name === "content-length") {
        if (contentLength !== undefined && contentLength !== value) {
          throw new ProxyProtocolError("Guest sent conflicting Content-Length headers");
        }
        contentLength = value;
      } else if (name === "connection") connection = value.toLowerCase();
      continue;
    }
    headers.push([name, value]);
  }
  // One object of one shape, made once everything is known.
  return {
    status,
    statusText: statusLine.length > 13 ? statusLine.slice(13) : "",
    headers,
    keepAlive: http10 ? connection.includes("keep-alive") : !connection.includes("close"),
    transferEncoding,
    contentLength,
    size: end + 4,
  };
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/** "HTTP/1.x NNN" and an optional reason phrase after a space. */
function isStatusLine(line: string): boolean {
  if (line.length < 12 || !line.startsWith("HTTP/1.")) return false;
  const minor = line.charCodeAt(7);
  if ((minor !== 48 && minor !== 49) || line.charCodeAt(8) !== 32) return false;
  for (let i = 9; i < 12; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return line.length === 12 || line.charCodeAt(12) === 32;
}

function malformedStatus(line: string): ProxyProtocolError {
  return new ProxyProtocolError(
    `Guest sent a malformed status line ${JSON.stringify(line.slice(0, 80))}; ` +
      `expected "HTTP/1.1 200 OK"`,
  );
}

/**
 * How the body after a response head is framed (RFC 9112 section 6.3).
 *
 * @example
 * ```ts
 * import { framingOf } from "./http1.ts";
 * console.assert(framingOf("HEAD", 200, undefined, "42").kind === "none");
 * ```
 *
 * @throws {ProxyProtocolError} on an invalid Content-Length.
 */
export function framingOf(
  method: string,
  status: number,
  transferEncoding: string | undefined,
  contentLength: string | undefined,
): Framing {
  if (method === "HEAD" || status === 204 || status === 304 || status < 200) {
    return { kind: "none" };
  }
  if (transferEncoding !== undefined) {
    const codings = transferEncoding.split(",");
    if (codings[codings.length - 1].trim() === "chunked") return { kind: "chunked" };
    return { kind: "close" };
  }
  if (contentLength !== undefined) {
    if (!/^\d{1,15}$/.test(contentLength)) {
      throw new ProxyProtocolError(
        `Guest sent an invalid Content-Length ${JSON.stringify(contentLength)}`,
      );
    }
    return { kind: "length", length: Number(contentLength) };
  }
  return { kind: "close" };
}
