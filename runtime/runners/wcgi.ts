/**
 * The WCGI runner: RFC 3875 CGI over WebAssembly. Every request runs a fresh guest instance
 * with the request's meta-variables in its environment and the body on stdin; the guest's
 * stdout carries CGI response headers, a blank line, and the body.
 *
 * @module
 */

import type { Runner } from "./runner.ts";

/** What one CGI execution needs from the instance layer. */
export interface CgiExecution {
  /** Environment: the app's env merged with the request's meta-variables. */
  env: Record<string, string>;
  /** The request body. */
  stdin: Uint8Array;
}

/** What one CGI execution produced. */
export interface CgiResult {
  /** Everything the guest wrote to stdout. */
  stdout: Uint8Array;
  /** The guest's exit code (0 when it returned from `_start`). */
  exitCode: number;
  /** Everything the guest wrote to stderr, for logs. */
  stderr?: Uint8Array;
}

/** Options for {@linkcode createWcgiRunner}. */
export interface WcgiRunnerOptions {
  /** Runs a fresh guest instance to completion. */
  execute(run: CgiExecution): Promise<CgiResult>;
  /** The app's own environment, underneath the CGI meta-variables. */
  env?: Record<string, string>;
  /** SERVER_NAME when the request has no Host header. */
  serverName?: string;
  /** REMOTE_ADDR, when the host knows it (it forwards `x-thaw-remote-addr`). */
  remoteAddr?: string;
}

/**
 * The guest's CGI output is not a valid CGI response. The host answers it with a 502.
 *
 * @example
 * ```ts
 * import { CgiResponseError } from "./wcgi.ts";
 * console.assert(new CgiResponseError("Missing blank line").status === 502);
 * ```
 */
export class CgiResponseError extends Error {
  /** HTTP status the host answers with. */
  readonly status = 502;
  /** Creates the error; `message` names what is wrong with the output. */
  constructor(message: string) {
    super(message);
    this.name = "CgiResponseError";
  }
}

/**
 * Builds the RFC 3875 section 4.1 meta-variables for a request.
 *
 * @example
 * ```ts
 * import { cgiEnvironment } from "./wcgi.ts";
 * const env = cgiEnvironment(new Request("http://app.localhost:8000/a/b?x=1"), 0);
 * console.assert(env.PATH_INFO === "/a/b" && env.QUERY_STRING === "x=1");
 * ```
 */
export function cgiEnvironment(
  request: Request,
  bodyLength: number,
  options: { serverName?: string; remoteAddr?: string } = {},
): Record<string, string> {
  const url = new URL(request.url);
  const hostHeader = request.headers.get("host") ?? url.host;
  const [hostName, hostPort] = splitHost(hostHeader);
  const env: Record<string, string> = {
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PROTOCOL: "HTTP/1.1",
    SERVER_SOFTWARE: "thaw",
    SERVER_NAME: hostName || options.serverName || "localhost",
    SERVER_PORT: hostPort || url.port || (url.protocol === "https:" ? "443" : "80"),
    REQUEST_METHOD: request.method,
    SCRIPT_NAME: "",
    PATH_INFO: decodePath(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REQUEST_URI: url.pathname + url.search,
    REMOTE_ADDR: options.remoteAddr ?? request.headers.get("x-thaw-remote-addr") ?? "127.0.0.1",
  };
  if (bodyLength > 0 || request.headers.has("content-length")) {
    env.CONTENT_LENGTH = String(bodyLength);
  }
  const contentType = request.headers.get("content-type");
  if (contentType) env.CONTENT_TYPE = contentType;
  for (const [name, value] of request.headers) {
    if (name === "content-length" || name === "content-type" || name === "x-thaw-remote-addr") {
      continue;
    }
    // Proxy would let a client set the guest's HTTP_PROXY ("httpoxy"); drop it.
    if (name === "proxy") continue;
    const key = "HTTP_" + name.toUpperCase().replaceAll("-", "_");
    env[key] = key in env ? `${env[key]}, ${value}` : value;
  }
  return env;
}

function splitHost(host: string): [string, string] {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  return m ? [m[1], m[2] ?? ""] : [host, ""];
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function indexOfBlankLine(bytes: Uint8Array): { at: number; length: number } | undefined {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 10) continue;
    if (bytes[i + 1] === 10) return { at: i, length: 2 };
    if (bytes[i + 1] === 13 && bytes[i + 2] === 10) return { at: i, length: 3 };
  }
  return undefined;
}

/**
 * Parses a CGI document response (RFC 3875 section 6.2): header lines, a blank line, the body.
 * A `Status` header sets the status; a `Location` without `Status` gives a 302.
 *
 * @throws {CgiResponseError} when the output has no header block or a malformed header.
 * @example
 * ```ts
 * import { parseCgiResponse } from "./wcgi.ts";
 * const out = new TextEncoder().encode("Status: 201 Created\nContent-Type: text/plain\n\nhi");
 * const res = parseCgiResponse(out);
 * console.assert(res.status === 201);
 * ```
 */
export function parseCgiResponse(stdout: Uint8Array): Response {
  // Output that starts with the blank line has no headers at all, which RFC 3875 forbids.
  const blank = stdout[0] === 10 || (stdout[0] === 13 && stdout[1] === 10)
    ? undefined
    : indexOfBlankLine(stdout);
  if (!blank) {
    throw new CgiResponseError(
      stdout.length === 0
        ? "The CGI program wrote nothing to stdout; it must print headers, a blank line, then the body"
        : "The CGI program's output has no header block ending in a blank line",
    );
  }
  const headerText = new TextDecoder("latin1").decode(stdout.subarray(0, blank.at));
  const headers = new Headers();
  let status: number | undefined;
  let statusText = "";
  for (const raw of headerText.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
      throw new CgiResponseError(
        `The CGI program wrote a malformed header line ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const value = line.slice(colon + 1).trim();
    if (name === "status") {
      const m = /^(\d{3})(?:\s+(.*))?$/.exec(value);
      if (!m || Number(m[1]) < 200) {
        throw new CgiResponseError(
          `The CGI program wrote an invalid Status ${JSON.stringify(value)}`,
        );
      }
      status = Number(m[1]);
      statusText = m[2] ?? "";
      continue;
    }
    if (name === "content-length" || name === "transfer-encoding" || name === "connection") {
      continue;
    }
    try {
      headers.append(name, value);
    } catch {
      throw new CgiResponseError(`The CGI program wrote an invalid value for header ${name}`);
    }
  }
  if (status === undefined) status = headers.has("location") ? 302 : 200;
  const body = stdout.subarray(blank.at + blank.length);
  const noBody = status === 204 || status === 304;
  return new Response(noBody ? null : body.slice(), { status, statusText, headers });
}

/**
 * Creates the WCGI runner.
 *
 * @example
 * ```ts ignore
 * import { createWcgiRunner } from "./wcgi.ts";
 * const runner = createWcgiRunner({ execute: (run) => runFreshInstance(module, run) });
 * const res = await runner.handle(new Request("http://app.localhost/hello"));
 * ```
 */
export function createWcgiRunner(options: WcgiRunnerOptions): Runner {
  return {
    async handle(request: Request): Promise<Response> {
      const stdin = request.body ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array(0);
      const env = {
        ...options.env,
        ...cgiEnvironment(request, stdin.length, options),
      };
      const result = await options.execute({ env, stdin });
      if (result.exitCode !== 0 && result.stdout.length === 0) {
        throw new CgiResponseError(
          `The CGI program exited with code ${result.exitCode} before writing a response`,
        );
      }
      const response = parseCgiResponse(result.stdout);
      if (request.method === "HEAD") {
        return new Response(null, response);
      }
      return response;
    },
  };
}
