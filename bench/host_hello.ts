/**
 * The baseline for bench/host_load.sh: a plain Deno.serve hello world, the ceiling the Thaw
 * host is compared with.
 *
 * deno run --allow-net bench/host_hello.ts PORT
 */
const port = Number(Deno.args[0] ?? 8100);
const body = "Hello from plain Deno.serve\n";
Deno.serve(
  { port, hostname: "127.0.0.1", onListen: () => console.log(`listening on ${port}`) },
  () => new Response(body, { headers: { "content-type": "text/plain" } }),
);
