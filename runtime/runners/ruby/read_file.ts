/**
 * Reads a whole file into one buffer sized from `stat`, with as few reads as the OS allows.
 *
 * `Deno.readFile` grows its buffer as it reads; for the 24–30 MB files a cold restore needs (the
 * prepared module, the journal) it took 50–110 ms on the development VM, against 5–30 ms for
 * reading into a buffer allocated once (bench/coldstart_bench.ts, BENCHMARKS.md "Ruby cold start").
 *
 * @module
 */

/**
 * The whole file's bytes. A file that grows while it is read is read to its end.
 *
 * @example
 * ```ts
 * import { readWholeFile } from "./read_file.ts";
 * const bytes = await readWholeFile(new URL(import.meta.url));
 * console.assert(bytes.length > 0);
 * ```
 */
export async function readWholeFile(path: string | URL): Promise<Uint8Array<ArrayBuffer>> {
  return await readInto(path, (n) => new Uint8Array(n)) as Uint8Array<ArrayBuffer>;
}

/**
 * The whole file's bytes in a `SharedArrayBuffer`, so that views on them can be posted to
 * Workers without a copy (a host decodes a journal once and shares the image).
 *
 * @example
 * ```ts
 * import { readWholeFileShared } from "./read_file.ts";
 * const bytes = await readWholeFileShared(new URL(import.meta.url));
 * console.assert(bytes.buffer instanceof SharedArrayBuffer);
 * ```
 */
export function readWholeFileShared(path: string | URL): Promise<Uint8Array> {
  return readInto(path, (n) => new Uint8Array(new SharedArrayBuffer(n)));
}

async function readInto(
  path: string | URL,
  alloc: (size: number) => Uint8Array,
): Promise<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  let buf = alloc((await file.stat()).size + 1);
  let at = 0;
  while (true) {
    if (at === buf.length) {
      const bigger = alloc(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = await file.read(buf.subarray(at));
    if (n === null) break;
    at += n;
  }
  return buf.subarray(0, at);
}
