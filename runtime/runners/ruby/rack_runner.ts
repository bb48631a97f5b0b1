/**
 * The Rack runner proper: reads an app's package ({@linkcode readRackApp}) and turns each HTTP
 * request into a call into a Ruby instance and its frames back into a `Response`
 * ({@linkcode createRackRunner}). Split from rack.ts, which re-exports it, so that an instance
 * Worker restoring a Rack app loads neither the journal codec nor the deploy-time tools.
 *
 * @example
 * ```ts ignore
 * const runner = createRackRunner(instance);
 * const res = await runner.handle(new Request("http://localhost/"));
 * ```
 * @module
 */

import type { RawRequest, RawResponse, Runner } from "../runner.ts";
import { type Frame, FrameError } from "./channel.ts";
import type { RackApp, RubyInstance } from "./instance.ts";

const VCS_DIRS = new Set([".git", ".hg", ".svn"]);

/**
 * File name of the prepared ruby.wasm in a deploy bundle (top level), which makes the bundle
 * self-contained: its wasmer.toml names this file.
 */
export const RUBY_BUNDLE_MODULE = "ruby.prepared.wasm";
/**
 * File name of the restore-only variant a bundle also carries (`restoreOnlyModule`): what a host
 * compiles when the app has a journal, falling back to {@linkcode RUBY_BUNDLE_MODULE} for a cold
 * boot.
 */
export const RUBY_RESTORE_MODULE = "ruby.restore.wasm";

/** What deploy adds next to an app in its bundle: not part of the package the guest sees. */
function isBundleArtifact(name: string): boolean {
  return name === "manifest.json" || name.endsWith(".journal") || name === RUBY_BUNDLE_MODULE ||
    name === RUBY_RESTORE_MODULE;
}

/**
 * Reads an app package from a host directory: every regular file under it, by relative path.
 * Symlinks are skipped, so nothing outside the directory is read; so are version-control
 * directories and, at the top level, a deploy bundle's `manifest.json`, `*.journal` and prepared module
 * ({@linkcode RUBY_BUNDLE_MODULE}), so that a bundle and the directory it came from hash the same.
 *
 * @throws {Deno.errors.NotFound} if the directory or its `app.rb` is missing.
 */
export async function readRackApp(
  dir: string | URL,
  opts: { entry?: string; env?: Record<string, string> } = {},
): Promise<RackApp> {
  const root = typeof dir === "string" ? dir : dir.pathname;
  const files = new Map<string, Uint8Array>();
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel ? `${root}/${rel}` : root)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) {
        if (!VCS_DIRS.has(e.name)) await walk(path);
      } else if (e.isFile && !(rel === "" && isBundleArtifact(e.name))) {
        files.set(path, await Deno.readFile(`${root}/${path}`));
      }
    }
  };
  await walk("");
  const entry = opts.entry ?? "app.rb";
  if (!files.has(entry)) {
    throw new Deno.errors.NotFound(
      `${root}: no ${entry}; a Rack app needs an entry file that ends with run(app)`,
    );
  }
  return { files, entry, env: opts.env };
}

function latin1(s: string, out: number[]): void {
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
}

/**
 * Encodes a request for the guest: `[meta_len][body_len] meta body` (see ruby/prelude.ts).
 *
 * @example
 * ```ts
 * import { encodeRackRequest } from "./rack.ts";
 * const bytes = encodeRackRequest(new Request("http://localhost/a?b=1"), new Uint8Array());
 * console.assert(new DataView(bytes.buffer).getUint32(4, true) === 0);
 * ```
 */
export function encodeRackRequest(
  request: Request | RawRequest,
  body: Uint8Array,
): Uint8Array {
  const url = new URL(request.url);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const fields = [
    request.method,
    url.pathname,
    url.search.slice(1),
    url.hostname,
    port,
    url.protocol.slice(0, -1),
  ];
  let hasLength = false;
  for (const [name, value] of request.headers) {
    fields.push(name, value);
    if (name === "content-length") hasLength = true;
  }
  // fetch computes Content-Length instead of listing it; Rack apps expect CONTENT_LENGTH.
  if (body.length > 0 && !hasLength) fields.push("content-length", String(body.length));
  const meta: number[] = [];
  fields.forEach((f, i) => {
    if (i > 0) meta.push(0);
    latin1(f, meta);
  });
  const out = new Uint8Array(8 + meta.length + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, meta.length, true);
  dv.setUint32(4, body.length, true);
  out.set(meta, 8);
  out.set(body, 8 + meta.length);
  return out;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** A {@linkcode Runner} for a Rack app, with the instance it drives. */
export interface RackRunner extends Runner {
  /** The live guest. */
  readonly instance: RubyInstance;
  /** The plain-data fast path: the whole response body in one buffer. */
  handleRaw(request: RawRequest): Promise<RawResponse>;
}

/**
 * Creates the Rack runner for a live instance. `handle` answers a streamed `Response`;
 * `handleRaw` (what the instance Worker uses when present) answers plain data. Either way one
 * request runs at a time.
 *
 * @example
 * ```ts ignore
 * const runner = createRackRunner(restoreRackInstance(program, app, image));
 * const html = await (await runner.handle(new Request("http://localhost/"))).text();
 * ```
 */
export function createRackRunner(instance: RubyInstance): RackRunner {
  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => {});
    return result;
  };
  const serveOne = async (request: Request): Promise<Response> => {
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array();
    const bytes = encodeRackRequest(request, body);
    let head: Extract<Frame, { tag: "H" }> | undefined;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    let ended = false;
    await instance.serve(bytes, (frame) => {
      switch (frame.tag) {
        case "H":
          head = frame;
          break;
        case "B":
          controller.enqueue(frame.chunk);
          break;
        case "E":
          ended = true;
          controller.close();
          break;
        case "X":
          ended = true;
          controller.error(new FrameError(`Rack app failed mid-response: ${frame.message}`));
          break;
      }
    });
    if (!head) throw new FrameError("Rack app finished without sending a response head");
    if (!ended) {
      controller.error(new FrameError("Rack app response ended without its end frame"));
    }
    const headers = toHeaders(head.headers);
    const nullBody = NULL_BODY.has(head.status) || request.method === "HEAD";
    if (nullBody) stream.cancel().catch(() => {});
    return new Response(nullBody ? null : stream, { status: head.status, headers });
  };
  const serveRaw = async (request: RawRequest): Promise<RawResponse> => {
    const bytes = encodeRackRequest(request, request.body ?? new Uint8Array());
    let head: Extract<Frame, { tag: "H" }> | undefined;
    const chunks: Uint8Array[] = [];
    let ended = false;
    let failure: string | undefined;
    await instance.serve(bytes, (frame) => {
      if (frame.tag === "H") head = frame;
      else if (frame.tag === "B") chunks.push(frame.chunk);
      else if (frame.tag === "E") ended = true;
      else failure = frame.message;
    });
    if (!head) throw new FrameError("Rack app finished without sending a response head");
    if (failure !== undefined) throw new FrameError(`Rack app failed mid-response: ${failure}`);
    if (!ended) throw new FrameError("Rack app response ended without its end frame");
    toHeaders(head.headers); // validates names and values
    const nullBody = NULL_BODY.has(head.status) || request.method === "HEAD";
    return {
      status: head.status,
      statusText: "",
      headers: head.headers,
      body: nullBody ? null : concat(chunks),
    };
  };
  return {
    instance,
    handle: (request) => serialize(() => serveOne(request)),
    handleRaw: (request) => serialize(() => serveRaw(request)),
  };
}

function toHeaders(pairs: readonly [string, string][]): Headers {
  const headers = new Headers();
  for (const [name, value] of pairs) {
    try {
      headers.append(name, value);
    } catch {
      throw new FrameError(`Rack app returned an invalid header ${JSON.stringify(name)}`);
    }
  }
  return headers;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
