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

import type { Runner, RunnerKind } from "../runners/mod.ts";

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
  /** Instaboot journal to restore from instead of booting, when the snapshot layer serves it. */
  journalPath?: string;
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
  | { t: "init"; module: WebAssembly.Module; spec: InstanceSpec; bootUrl?: string }
  | {
    t: "req";
    id: number;
    method: string;
    url: string;
    headers: [string, string][];
    body: ArrayBuffer | null;
  };

/** Messages an instance Worker posts to the host. */
export type WorkerToHost =
  | { t: "blank" }
  | { t: "ready"; phases: Record<string, number> }
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

/** Responses whose body fits in this many bytes travel in one message. */
const INLINE_LIMIT = 256 * 1024;

let runner: Runner | undefined;

function post(message: WorkerToHost, transfer: Transferable[] = []) {
  self.postMessage(message, transfer);
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** A guest trap or a broken guest ends the instance; protocol errors only fail the request. */
function isFatal(err: unknown): boolean {
  return err instanceof WebAssembly.RuntimeError || err instanceof RangeError ||
    (err instanceof Error && err.name === "GuestExitedError");
}

function defaultBoot(_module: WebAssembly.Module, spec: InstanceSpec): Promise<BootResult> {
  return Promise.reject(new Error(`${spec.name}: booting real guests is not wired yet`));
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
    post({ t: "ready", phases: result.phases });
  } catch (err) {
    post({ t: "boot-error", message: describe(err) });
  }
}

async function serve(message: Extract<HostToWorker, { t: "req" }>) {
  const start = performance.now();
  const { id } = message;
  let response: Response;
  try {
    if (!runner) throw new Error("The instance received a request before it booted");
    const request = new Request(message.url, {
      method: message.method,
      headers: message.headers,
      body: message.body,
    });
    response = await runner.handle(request);
  } catch (err) {
    const status = (err as { status?: number }).status ?? 502;
    post({ t: "err", id, status, message: describe(err) });
    if (isFatal(err)) post({ t: "fatal", message: describe(err) });
    return;
  }
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
    if (!headSent) {
      const status = (err as { status?: number }).status ?? 502;
      post({ t: "err", id, status, message: describe(err) });
    } else {
      post({ t: "err", id, status: 502, message: describe(err) });
    }
    if (isFatal(err)) post({ t: "fatal", message: describe(err) });
    return;
  }
  if (headSent) {
    post({ t: "end", id });
    return;
  }
  const body = parts.length === 1 ? parts[0] : concat(parts, size);
  post({ t: "res", ...head, body, end: true });
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
};

post({ t: "blank" });
