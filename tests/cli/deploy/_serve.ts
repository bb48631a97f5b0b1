/**
 * Helpers for tests that run `deno task serve` (main.ts) as a child process and talk to it over
 * a real socket.
 * @module
 */

const ROOT = new URL("../../../", import.meta.url).pathname;

/** GET over a raw socket: fetch() does not let a test choose the Host header. */
export async function rawGet(
  base: string,
  host: string,
  path: string,
): Promise<{ status: number; body: string; timing: string | null }> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const text = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    const [head, ...rest] = text.split("\r\n\r\n");
    const status = Number(head.split(" ")[1]);
    const timing = /server-timing: ([^\r\n]*)/i.exec(head)?.[1] ?? null;
    let body = rest.join("\r\n\r\n");
    if (/transfer-encoding: chunked/i.test(head)) {
      let out = "";
      for (let at = 0;;) {
        const nl = body.indexOf("\r\n", at);
        const size = parseInt(body.slice(at, nl), 16);
        if (!size) break;
        out += body.slice(nl + 2, nl + 2 + size);
        at = nl + 2 + size + 2;
      }
      body = out;
    }
    return { status, body, timing };
  } finally {
    try {
      conn.close();
    } catch { /* already closed by the response stream */ }
  }
}

/** Starts `deno task serve` on a free port; resolves with its base URL once it listens. */
export async function serve(
  appsDir: string,
  token?: string,
  extra: string[] = [],
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}main.ts`,
      "--apps",
      appsDir,
      "--port",
      "0",
      ...(token ? ["--admin-token", token] : []),
      ...extra,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!/listening on (http:\/\/\S+?)\/?\n/.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${seen}`);
    seen += value;
  }
  const url = /listening on (http:\/\/\S+?)\/?\n/.exec(seen)![1];
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}
