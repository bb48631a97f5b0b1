import type { HostApp } from "../../../runtime/host/mod.ts";

/** The smallest valid module: the fake boot ignores it. */
export const EMPTY_MODULE = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));

const BOOT_URL = new URL("./_fake_boot.ts", import.meta.url);

/** A HostApp served by the JavaScript fake guest. */
export function fakeApp(
  name: string,
  extra: Partial<HostApp> = {},
  env: Record<string, string> = {},
): HostApp {
  return {
    name,
    spec: { name, runner: "proxy", env, args: [], wasmPath: `${name}.wasm` },
    module: EMPTY_MODULE,
    bootUrl: BOOT_URL.href,
    permissions: { read: [new URL("../../../", import.meta.url).pathname] },
    ...extra,
  };
}

/** Options for {@linkcode rawFetch}. */
export interface RawFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Send the body with Transfer-Encoding: chunked, in pieces of this size. */
  chunkSize?: number;
}

/**
 * An HTTP/1.1 client over a raw loopback socket, because `fetch` cannot set the Host header.
 * Parses the response with the proxy runner's parser.
 */
export async function rawFetch(
  port: number,
  host: string,
  path: string,
  init: RawFetchInit = {},
): Promise<Response> {
  const { byteReader, readResponse } = await import("../../../runtime/runners/mod.ts");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const enc = new TextEncoder();
  const body = typeof init.body === "string" ? enc.encode(init.body) : init.body;
  const method = init.method ?? (body ? "POST" : "GET");
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n`;
  for (const [k, v] of Object.entries(init.headers ?? {})) head += `${k}: ${v}\r\n`;
  if (body && init.chunkSize) head += "transfer-encoding: chunked\r\n";
  else if (body) head += `content-length: ${body.length}\r\n`;
  const writer = conn.writable.getWriter();
  await writer.write(enc.encode(head + "\r\n"));
  if (body && init.chunkSize) {
    for (let at = 0; at < body.length; at += init.chunkSize) {
      const part = body.subarray(at, at + init.chunkSize);
      await writer.write(enc.encode(part.length.toString(16) + "\r\n"));
      await writer.write(part);
      await writer.write(enc.encode("\r\n"));
    }
    await writer.write(enc.encode("0\r\n\r\n"));
  } else if (body) await writer.write(body);
  writer.releaseLock();
  const { response } = await readResponse(byteReader(conn.readable), method);
  return response;
}
