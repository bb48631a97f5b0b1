/**
 * The floor of the host's request path: `Deno.serve` on the main thread, each request's head
 * written to a shared-memory ring (runtime/instance/ring.ts), one Worker that answers every
 * request at once with a fixed response (no guest, no runner), and the answer read back from a
 * second ring into a `Response`. Whatever the host does per request costs at least this. Part of
 * the "Host" section of BENCHMARKS.md; measure it with wrk as bench/host_load.sh does:
 *
 *   deno run -A bench/host_floor.ts 8197 &
 *   wrk -t2 -c64 -d30s http://127.0.0.1:8197/
 *
 * Usage: deno run -A bench/host_floor.ts [PORT] [WORKERS]   (defaults 8197, 1)
 */
import {
  decodeRequestHead,
  decodeResponseHead,
  encodeRequestHead,
  encodeResponseHead,
  Ring,
} from "../runtime/instance/ring.ts";

const port = Number(Deno.args[0] ?? 8197);
const workers = Number(Deno.args[1] ?? 1);
const ringUrl = new URL("../runtime/instance/ring.ts", import.meta.url).href;

/** The Worker: every request gets `ok`, with two headers. */
const workerSource = `
import { decodeRequestHead, encodeResponseHead, Ring } from ${JSON.stringify(ringUrl)};
const body = new TextEncoder().encode("ok\\n");
self.onmessage = (e) => {
  const toHost = new Ring(e.data.toHost);
  new Ring(e.data.toWorker).consume((head) => {
    const { id } = decodeRequestHead(head);
    const headers = [["content-type", "text/plain"], ["server", "floor"]];
    toHost.tryWriteText(encodeResponseHead({ id, status: 200, statusText: "OK", headers, exec: 0 }), body);
  });
};`;
// The Worker imports the ring module by URL; these imports keep its API checked here.
void [decodeRequestHead, encodeResponseHead];

interface Lane {
  toWorker: Ring;
  pending: Map<number, (res: Response) => void>;
}

const lanes: Lane[] = [];
for (let i = 0; i < workers; i++) {
  const toWorker = Ring.allocate();
  const toHost = Ring.allocate();
  const worker = new Worker(
    `data:application/typescript,${encodeURIComponent(workerSource)}`,
    { type: "module" },
  );
  worker.postMessage({ toWorker, toHost });
  const lane: Lane = { toWorker: new Ring(toWorker), pending: new Map() };
  lanes.push(lane);
  new Ring(toHost).consume((head, body) => {
    const res = decodeResponseHead(head as string);
    lane.pending.get(res.id)?.(new Response(body, { status: res.status, headers: res.headers }));
    lane.pending.delete(res.id);
  }, () => lane.pending.size > 0);
}

let nextId = 0;
Deno.serve({ port, hostname: "127.0.0.1" }, (request) => {
  const id = ++nextId;
  const lane = lanes[id % lanes.length];
  const headers: [string, string][] = [];
  for (const pair of request.headers) headers.push(pair);
  return new Promise<Response>((resolve) => {
    lane.pending.set(id, resolve);
    lane.toWorker.tryWriteText(encodeRequestHead(id, request.method, request.url, headers)!);
  });
});
