/**
 * A boot function whose "guest" is JavaScript, so host, pool and Worker behaviour (limits,
 * crashes, streaming, scale to zero) can be tested without a WASI runtime.
 */
import type { BootResult, InstanceSpec } from "../../../runtime/instance/mod.ts";

const instanceId = crypto.randomUUID();

export function boot(_module: WebAssembly.Module, spec: InstanceSpec): Promise<BootResult> {
  const start = performance.now();
  if (spec.env.FAIL_BOOT) return Promise.reject(new Error("boot failed on purpose"));
  const runner = {
    async handle(request: Request): Promise<Response> {
      const url = new URL(request.url);
      switch (url.pathname) {
        case "/":
          return new Response(`hello from ${spec.name} ${instanceId}`);
        case "/echo":
          return new Response(await request.arrayBuffer(), {
            headers: { "x-method": request.method },
          });
        case "/loop":
          while (true) { /* burn CPU */ }
          // falls through
        case "/crash":
          setTimeout(() => {
            throw new Error("guest crashed on purpose");
          });
          return await new Promise<Response>(() => {});
        case "/trap":
          throw new WebAssembly.RuntimeError("unreachable executed");
        case "/bad":
          throw Object.assign(new Error("Guest sent a malformed status line"), { status: 502 });
        case "/slow": {
          const ms = Number(url.searchParams.get("ms") ?? 100);
          await new Promise((r) => setTimeout(r, ms));
          return new Response("slow done");
        }
        case "/big": {
          const size = Number(url.searchParams.get("size") ?? 10 * 1024 * 1024);
          let sent = 0;
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              const n = Math.min(65536, size - sent);
              if (n === 0) return controller.close();
              controller.enqueue(new Uint8Array(n).fill(97));
              sent += n;
            },
          });
          return new Response(body);
        }
        case "/memory":
          return new Response(String(performance.now()));
      }
      return new Response("not found", { status: 404 });
    },
  };
  return Promise.resolve({ runner, phases: { instantiate: performance.now() - start } });
}
