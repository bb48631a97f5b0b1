/**
 * The instance Worker: one app instance per Worker. The host spawns it blank (app-agnostic),
 * then posts `init` with the compiled `WebAssembly.Module` and the app's {@linkcode InstanceSpec}.
 * The Worker boots the guest through one pluggable boot function (instantiate from scratch, or,
 * later, restore from a journal), starts the app's runner, and answers `req` messages.
 *
 * The message protocol is in {@linkcode HostToWorker} and {@linkcode WorkerToHost}. A small
 * response travels in one message; a large or slow one as a head, chunks and an end.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import {
  createProxyRunner,
  createWcgiRunner,
  guestConnections,
  latin1Decode,
  type Runner,
  type RunnerKind,
  vnetConnection,
} from "../runners/mod.ts";
import { VirtualNetwork } from "../vnet/mod.ts";
import { bytesInput, CollectOutput, lineSink, type Process, RIGHTS_SOCKET } from "../wasi/mod.ts";
import { SocketHandle } from "../wasix/mod.ts";
import { instantiate, type InstantiateOptions, runModule } from "../instantiate/mod.ts";
import { decodeRequestHead, encodeResponseHead, Ring } from "./ring.ts";

/** Everything a Worker needs to boot one instance of an app. Plain data, so it can be posted. */
export interface InstanceSpec {
  /** The app's name, for messages. */
  name: string;
  /** Which runner serves the app. */
  runner: RunnerKind;
  /** Guest environment variables. */
  env: Record<string, string>;
  /** Guest arguments after argv[0]. */
  args: string[];
  /** The module's file, for messages and argv[0]. */
  wasmPath: string;
  /** Guest port the proxy runner connects to; default: the guest's first listen. */
  port?: number;
  /** Host directories mounted into the guest (the Worker is given read/write to these only). */
  mounts?: { guest: string; host: string; readonly?: boolean }[];
  /** `capabilities.memory.limit` in bytes; defined memories are already capped in the module. */
  memoryLimitBytes?: number;
  /** Instaboot journal to restore from instead of booting, when the snapshot layer serves it. */
  journalPath?: string;
  /**
   * The journal already decoded by the host, once per process, for runners that accept it (the
   * Rack runner's `MemoryImage`, its bytes in a `SharedArrayBuffer`). Opaque to this layer.
   */
  journalImage?: unknown;
  /**
   * The app's package files as the host read them (and checked `journalImage` against), for
   * runners that load the app's source themselves (rack): the Worker need not read its mount.
   */
  appFiles?: ReadonlyMap<string, Uint8Array>;
  /** Milliseconds the proxy runner waits for the guest's first listen. @default {10000} */
  listenTimeoutMs?: number;
}

/** What a boot function gives back: a live runner and how long each boot phase took. */
export interface BootResult {
  /** Serves requests against the booted guest. */
  runner: Runner;
  /** Phase name ("instantiate" or "restore", and any sub-phases) to milliseconds. */
  phases: Record<string, number>;
  /** Settles when the guest stops on its own; a rejection is a crash. */
  exited?: Promise<unknown>;
}

/** Boots one instance. The default instantiates; the snapshot layer adds a restoring one. */
export type BootFunction = (module: WebAssembly.Module, spec: InstanceSpec) => Promise<BootResult>;

/** Messages the host posts to an instance Worker. */
export type HostToWorker =
  | {
    t: "preload";
    url: string;
    /** Also run the boot module's `warm` export, if any (blanks kept in reserve). */
    warm?: boolean;
  }
  | {
    t: "init";
    module: WebAssembly.Module;
    spec: InstanceSpec;
    bootUrl?: string;
    /** Shared rings for small messages: [host to Worker, Worker to host]. */
    rings?: [SharedArrayBuffer, SharedArrayBuffer];
  }
  | {
    t: "req";
    id: number;
    method: string;
    url: string;
    headers: [string, string][];
    body: ArrayBuffer | Uint8Array<ArrayBuffer> | null;
  };

/** Messages an instance Worker posts to the host. */
export type WorkerToHost =
  | { t: "blank" }
  | { t: "preloaded" }
  | {
    t: "ready";
    phases: Record<string, number>;
    /**
     * The runner takes requests as HTTP/1.1 bytes (`Runner.handleWire`): the host then writes
     * each request on the ring encoded once, as a tagged message.
     */
    wire?: boolean;
  }
  | { t: "boot-error"; message: string }
  | {
    t: "res";
    id: number;
    status: number;
    statusText: string;
    headers: [string, string][];
    /** The whole body when `end` is true, else null and chunks follow. */
    body: Uint8Array | null;
    end: boolean;
    /** Milliseconds from receiving the request to having the response head. */
    exec: number;
  }
  | { t: "chunk"; id: number; data: Uint8Array }
  | { t: "end"; id: number }
  | { t: "err"; id: number; status: number; message: string }
  | { t: "fatal"; message: string };

/** Milliseconds a blank Worker spends at most on its boot module's warm-up before it is ready. */
const WARMUP_LIMIT_MS = 2_000;

/** Responses whose body fits in this many bytes travel in one message. */
const INLINE_LIMIT = 128 * 1024;

let runner: Runner | undefined;
let toHost: Ring | undefined;

/** Bodies up to this size that are plain ASCII travel inside the response head, as text. */
const TEXT_BODY_LIMIT = 4096;

function post(message: WorkerToHost) {
  // A complete small response takes the shared ring; everything else is a message.
  if (toHost && message.t === "res" && message.end) {
    const body = message.body;
    const text = body !== null ? asciiText(body, message.headers) : undefined;
    const encoded = encodeResponseHead(text === undefined ? message : { ...message, text });
    if (encoded !== null) {
      if (toHost.tryWriteText(encoded, text === undefined ? body : null)) return;
    } else if (
      toHost.tryWrite(
        {
          t: "res",
          id: message.id,
          status: message.status,
          statusText: message.statusText,
          headers: message.headers,
          end: true,
          exec: message.exec,
        },
        body,
      )
    ) return;
  }
  self.postMessage(message);
}

/**
 * The body as a string when it can travel as one and come out the same: small, every byte ASCII
 * but NUL (the heads' separator), and with a Content-Type (a string body would otherwise get a
 * default one). Undefined otherwise.
 */
function asciiText(body: Uint8Array, headers: [string, string][]): string | undefined {
  if (body.length > TEXT_BODY_LIMIT) return undefined;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === 0 || c > 127) return undefined;
  }
  if (!headers.some((h) => h[0] === "content-type")) return undefined;
  return utf8.decode(body); // the same as latin1 for ASCII, and faster
}

const utf8 = new TextDecoder();

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** A guest trap or a broken guest ends the instance; protocol errors only fail the request. */
function isFatal(err: unknown): boolean {
  return err instanceof WebAssembly.RuntimeError || err instanceof RangeError ||
    (err instanceof Error && err.name === "GuestExitedError");
}

/** The guest ended on its own: a server that exits has crashed, as far as the host cares. */
export class GuestExitedError extends Error {
  /** Creates the error for exit status `code`. */
  constructor(readonly code: number) {
    super(`The guest exited with status ${code}`);
    this.name = "GuestExitedError";
  }
}

/** The port a preview1 server's pre-opened listener (fd 3) is bound to, on its own network. */
export const PREVIEW1_PORT = 8080;

function baseOptions(spec: InstanceSpec): InstantiateOptions {
  const argv0 = spec.wasmPath.split("/").at(-1) ?? "main.wasm";
  return {
    args: [argv0, ...spec.args],
    env: spec.env,
    dirs: (spec.mounts ?? []).map((m) => ({ host: m.host, guest: m.guest, readOnly: m.readonly })),
  };
}

/**
 * A preview1 module cannot open sockets; one that accepts connections expects its listener
 * pre-opened (fd 3, `LISTEN_FDS=1`), as `wasmtime run --tcplisten` does.
 */
function wantsPreopenedListener(module: WebAssembly.Module): boolean {
  const imports = WebAssembly.Module.imports(module);
  const wasixListen = imports.some((i) =>
    i.module === "wasix_32v1" && (i.name === "sock_listen" || i.name === "sock_open")
  );
  return !wasixListen &&
    imports.some((i) => i.name === "sock_accept" || i.name === "sock_accept_v2");
}

function prefixLines(name: string): (chunk: Uint8Array) => void {
  return lineSink((line) => console.error(`[${name}] ${line}`));
}

/** Boots a proxy guest: starts it, waits for its first listen, and connects to that port. */
async function bootProxy(module: WebAssembly.Module, spec: InstanceSpec): Promise<BootResult> {
  const start = performance.now();
  const net = new VirtualNetwork({ hostnames: [spec.name] });
  const preview1 = wantsPreopenedListener(module);
  const base = baseOptions(spec);
  const log = prefixLines(spec.name);
  const { instance, process } = await instantiate(module, {
    ...base,
    env: preview1 ? { ...spec.env, LISTEN_FDS: "1" } : spec.env,
    stdout: log,
    stderr: log,
    wasix: { net },
    setup: preview1 ? (proc: Process) => preopenListener(proc, net) : undefined,
  });
  const instantiated = performance.now();
  const exited = process.start(instance).then((code) => {
    throw new GuestExitedError(code);
  });
  exited.catch(() => {});
  let port = spec.port ?? PREVIEW1_PORT;
  if (!preview1 && spec.port === undefined) {
    const limit = spec.listenTimeoutMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() =>
        reject(
          new Error(
            `${spec.name}: the guest did not listen on a port within ${limit} ms; ` +
              "a proxy app must be an HTTP server (use runner: wcgi for CGI programs)",
          ),
        ), limit);
    });
    try {
      const info = await Promise.race([net.firstListen(), exited, timeout]);
      port = info.address.port;
    } finally {
      clearTimeout(timer);
    }
  }
  const listening = performance.now();
  const runner = createProxyRunner({
    maxConnections: guestConnections(module),
    connect: () => Promise.resolve(vnetConnection(net.connect(port))),
  });
  return {
    runner,
    phases: { instantiate: listening - start, listen: listening - instantiated },
    exited,
  };
}

function preopenListener(proc: Process, net: VirtualNetwork) {
  const binding = net.bind({ family: "ipv4", ip: "127.0.0.1", port: PREVIEW1_PORT });
  const listener = net.listen(binding);
  proc.fds.insert({
    handle: SocketHandle.listening("ipv4", listener),
    rightsBase: RIGHTS_SOCKET,
    rightsInheriting: RIGHTS_SOCKET,
    fdflags: 0,
  });
}

/** Boots a WCGI app: nothing runs until a request comes; each request runs a fresh instance. */
function bootWcgi(module: WebAssembly.Module, spec: InstanceSpec): Promise<BootResult> {
  const base = baseOptions(spec);
  const log = prefixLines(spec.name);
  const runner = createWcgiRunner({
    env: spec.env,
    async execute({ env, stdin }) {
      const stdout = new CollectOutput();
      const exitCode = await runModule(module, {
        ...base,
        env,
        stdin: bytesInput(stdin),
        stdout,
        stderr: log,
      });
      return { stdout: stdout.bytes(), exitCode };
    },
  });
  return Promise.resolve({ runner, phases: { instantiate: 0 } });
}

/** Boots an instance from scratch with the app's runner. */
function defaultBoot(module: WebAssembly.Module, spec: InstanceSpec): Promise<BootResult> {
  if (spec.runner === "proxy") return bootProxy(module, spec);
  if (spec.runner === "wcgi") return bootWcgi(module, spec);
  return Promise.reject(
    new Error(`${spec.name}: runner "${spec.runner}" needs its own boot function (bootUrl)`),
  );
}

async function init(message: Extract<HostToWorker, { t: "init" }>) {
  try {
    const boot: BootFunction = message.bootUrl ? (await import(message.bootUrl)).boot : defaultBoot;
    const result = await boot(message.module, message.spec);
    runner = result.runner;
    result.exited?.then(
      () => post({ t: "fatal", message: `${message.spec.name}: the guest exited` }),
      (err) => post({ t: "fatal", message: `${message.spec.name}: ${describe(err)}` }),
    );
    post({ t: "ready", phases: result.phases, wire: runner.handleWire !== undefined });
    if (message.rings) {
      toHost = new Ring(message.rings[1]);
      new Ring(message.rings[0]).consume((head, body) => {
        // A request encoded as HTTP/1.1 comes tagged with its id.
        if (typeof head === "number") return serveWire(head, body!);
        // Others come as compact text heads, or as JSON when a field held a NUL.
        const req = typeof head === "string"
          ? decodeRequestHead(head)
          : head as Omit<Extract<HostToWorker, { t: "req" }>, "body" | "t">;
        serve({
          t: "req",
          id: req.id,
          method: req.method,
          url: req.url,
          headers: req.headers,
          body,
        });
      });
    }
  } catch (err) {
    post({ t: "boot-error", message: describe(err) });
  }
}

/** Serves a request the host encoded as HTTP/1.1 (head and body as the guest reads them). */
function serveWire(id: number, bytes: Uint8Array) {
  const start = performance.now();
  const current = runner;
  if (current?.handleWire === undefined) {
    fail(id, new Error("The instance received an encoded request its runner cannot take"));
    return;
  }
  const space = bytes.indexOf(32);
  const method = latin1Decode(bytes.subarray(0, space < 0 ? 0 : space));
  try {
    current.handleWire(method, bytes, (result) => {
      if (result instanceof Error) fail(id, result);
      else if (result instanceof Response) sendResponse(id, result, start);
      else {
        const exec = performance.now() - start;
        post({ t: "res", id, ...result, end: true, exec });
      }
    });
  } catch (err) {
    fail(id, err); // a runner bug fails this request, not the ring
  }
}

async function serve(message: Extract<HostToWorker, { t: "req" }>) {
  const start = performance.now();
  const { id } = message;
  let response: Response;
  try {
    if (!runner) throw new Error("The instance received a request before it booted");
    if (runner.handleRaw) {
      const body = message.body === null
        ? null
        : message.body instanceof Uint8Array
        ? message.body
        : new Uint8Array(message.body);
      const result = await runner.handleRaw({
        method: message.method,
        url: message.url,
        headers: message.headers,
        body,
      });
      if (!(result instanceof Response)) {
        const exec = performance.now() - start;
        post({ t: "res", id, ...result, end: true, exec });
        return;
      }
      response = result;
    } else {
      const request = new Request(message.url, {
        method: message.method,
        headers: message.headers,
        body: message.body,
      });
      response = await runner.handle(request);
    }
  } catch (err) {
    fail(id, err);
    return;
  }
  await sendResponse(id, response, start);
}

/** Sends a `Response`: in one message when its body ends within the inline limit, else streamed. */
async function sendResponse(id: number, response: Response, start: number) {
  const exec = performance.now() - start;
  const head = {
    id,
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
    exec,
  };
  if (!response.body) {
    post({ t: "res", ...head, body: null, end: true });
    return;
  }
  const reader = response.body.getReader();
  // Gather what arrives at once; if the body ends within the inline limit, send one message.
  const parts: Uint8Array[] = [];
  let size = 0;
  let headSent = false;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!headSent) {
        parts.push(value);
        size += value.length;
        if (size > INLINE_LIMIT) {
          post({ t: "res", ...head, body: null, end: false });
          headSent = true;
          for (const part of parts) post({ t: "chunk", id, data: part });
          parts.length = 0;
        }
      } else {
        post({ t: "chunk", id, data: value });
      }
    }
  } catch (err) {
    fail(id, err);
    return;
  }
  if (headSent) {
    post({ t: "end", id });
    return;
  }
  const body = parts.length === 1 ? parts[0] : concat(parts, size);
  post({ t: "res", ...head, body, end: true });
}

/**
 * Reports a failed request. A fatal error (a trap) ends the instance: the host hears of it
 * before the request's own error, so no new request reaches a broken instance.
 */
function fail(id: number, err: unknown) {
  if (isFatal(err)) {
    runner = undefined;
    post({ t: "fatal", message: describe(err) });
  }
  const status = (err as { status?: number }).status ?? 502;
  post({ t: "err", id, status, message: describe(err) });
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

self.onmessage = (event: MessageEvent<HostToWorker>) => {
  const message = event.data;
  if (message.t === "req") serve(message);
  else if (message.t === "init") init(message);
  else if (message.t === "preload") {
    // Importing the boot module ahead of time takes it off the cold-start path. A failure
    // surfaces again, with its message, when init imports it. A boot module may export `warm`,
    // an app-agnostic warm-up that runs its code once so the app's own boot runs compiled JS;
    // a failed or slow warm-up (bounded by WARMUP_LIMIT_MS) only loses the head start.
    let timer: ReturnType<typeof setTimeout> | undefined;
    import(message.url)
      .then((mod) =>
        message.warm && typeof mod.warm === "function"
          ? Promise.race([
            mod.warm(),
            new Promise((resolve) => timer = setTimeout(resolve, WARMUP_LIMIT_MS)),
          ])
          : undefined
      )
      .catch(() => {})
      .finally(() => {
        clearTimeout(timer);
        post({ t: "preloaded" });
      });
  }
};

post({ t: "blank" });
