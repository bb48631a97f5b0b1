/**
 * The process-cold child of `deno task bench:coldstart` (bench/coldstart_bench.ts): a minimal
 * embedder of the Rack runner, started as its own process, that serves one cold request to the
 * Ruby blog and prints its phases. It imports only the Rack runner (not the bench, the config
 * parsers or the deploy code), so that its start measures what an embedder pays.
 *
 * ```sh
 * deno run -A bench/coldstart_child.ts restore out/ruby-blog   # prints PORT n, then phases
 * ```
 *
 * @module
 */

// The file names only (a module with no heavy imports); the runner itself loads after the compile
// has started.
import { RUBY_BUNDLE_MODULE, RUBY_RESTORE_MODULE } from "../runtime/runners/ruby/rack_runner.ts";

type Rack = typeof import("../runtime/runners/rack.ts");

/** When the entry point started reading the module (ms since the isolate started). */
let compileStart = 0;

function quiet(): (line: string) => void {
  return () => {};
}

/** The module a mode compiles: the restore-only variant to restore, the full one to boot. */
function moduleFile(mode: "boot" | "restore", dir: string): string {
  return `${dir}/${mode === "restore" ? RUBY_RESTORE_MODULE : RUBY_BUNDLE_MODULE}`;
}

/**
 * A fresh process that starts the way a minimal embedder would and serves one cold request.
 * Its entry point reads the module and hands it to V8's background compile before it loads the
 * runner; meanwhile the main thread reads the app and reads and decodes the journal. The restore
 * takes a fresh memory (see below).
 */
async function processCold(
  rack: Rack,
  mode: "boot" | "restore",
  dir: string,
  compiling: Promise<WebAssembly.Module>,
): Promise<void> {
  const {
    appHash,
    createRackRunner,
    decodeRubyJournal,
    MemoryPool,
    readRackApp,
    readWholeFile,
    RubyInstance,
    rubyProgramFromModule,
  } = rack;
  const tMain = performance.now();
  const pool = new MemoryPool({ maxIdle: 1 });
  const appReady = readRackApp(dir);
  let decodeMs = 0;
  let compiledAt = 0;
  let imageAt = 0;
  const [program, image] = await Promise.all([
    // A restore needs only the restore-only module (no data segments); a boot needs the full one.
    compiling.then(rubyProgramFromModule).finally(() => {
      compiledAt = performance.now();
    }),
    (async () => {
      if (mode === "boot") return undefined;
      const app = await appReady;
      const bytes = await readWholeFile(`${dir}/snapshot.journal`);
      const t = performance.now();
      const image = decodeRubyJournal(bytes, { configHash: await appHash(app) });
      decodeMs = performance.now() - t;
      // No pre-faulted memory: at process start every core is busy (the compile, this thread),
      // and faulting the whole 74 MB costs more than faulting the image's 24 MB as it is copied.
      imageAt = performance.now();
      return image;
    })(),
  ]);
  const app = await appReady;
  if (!image) await pool.prefill(program.layout.memoryMinPages, 1);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const t0 = performance.now();
    const memory = pool.take(image ? image.pages : program.layout.memoryMinPages);
    const instance = image
      ? RubyInstance.restore(program, app, image, { memory, log: quiet() })
      : await RubyInstance.boot(program, app, { memory, log: quiet() });
    const res = await createRackRunner(instance).handle(req);
    const body = await res.arrayBuffer();
    const p = instance.phases;
    console.log(JSON.stringify({
      // performance.now() counts from the isolate's start, a few ms after the process's.
      modulesLoaded: tMain,
      compile: compiledAt - compileStart,
      decode: decodeMs,
      compiledAt,
      imageAt,
      listening: ready,
      memory: p.memory,
      instantiate: p.instantiate,
      init: p.init,
      execute: instance.lastServeMs,
      request: performance.now() - t0,
      responded: performance.now(),
    }));
    return new Response(body, { status: res.status, headers: res.headers });
  });
  const ready = performance.now();
  console.log(`PORT ${server.addr.port}`);
  await new Promise((r) => setTimeout(r, 30_000));
  await server.shutdown();
}

/** What the child prints after its response (ms since its isolate started, or durations). */
export interface ChildPhases {
  modulesLoaded: number;
  compile: number;
  decode: number;
  compiledAt: number;
  imageAt: number;
  listening: number;
  memory: number;
  instantiate: number;
  init: number;
  execute: number;
  request: number;
  responded: number;
}

if (import.meta.main) {
  const [mode, dir] = Deno.args;
  if ((mode !== "boot" && mode !== "restore") || !dir) {
    console.error("Usage: deno run -A bench/coldstart_child.ts boot|restore BUNDLE_DIR");
    Deno.exit(2);
  }
  compileStart = performance.now();
  const compiling = WebAssembly.compile(Deno.readFileSync(moduleFile(mode, dir)));
  await processCold(await import("../runtime/runners/rack.ts"), mode, dir, compiling);
}
