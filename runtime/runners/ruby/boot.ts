/**
 * The instance Worker's boot function for `runner: rack` apps (pass this module's URL as the
 * Worker's `bootUrl`; rack.ts exports it as `RACK_BOOT_URL`).
 *
 * The host compiles the *prepared* module once per process (`prepareRubyModule`) and posts
 * it; the app package is the spec's `/app` mount. With a journal the instance is restored,
 * else Ruby boots from scratch.
 *
 * @module
 */

import type { BootResult, InstanceSpec } from "../../instance/mod.ts";
import { APP_MOUNT, type MemoryImage, RubyInstance, rubyProgramFromModule } from "./instance.ts";
import { appHash, decodeRubyJournal, moduleHash } from "./journal.ts";
import type { RackApp } from "./instance.ts";
// Static imports: a host that pre-imports this module in blank Workers gets the whole runner
// loaded before the first cold request.
import { createRackRunner, readRackApp } from "../rack.ts";

let cached: { key: string; image: MemoryImage } | undefined;

function readApp(spec: InstanceSpec): Promise<RackApp> {
  const mount = spec.mounts?.find((m) => m.guest === APP_MOUNT);
  if (!mount) {
    throw new Error(
      `${spec.name}: a rack app needs its package mounted at ${APP_MOUNT}; add ` +
        `[fs] "${APP_MOUNT}" = "." to its wasmer.toml`,
    );
  }
  return readRackApp(mount.host, { env: spec.env });
}

/** Boots or restores one Ruby instance and returns its Rack runner. */
export async function boot(module: WebAssembly.Module, spec: InstanceSpec): Promise<BootResult> {
  const program = rubyProgramFromModule(module);
  const app = await readApp(spec);
  const log = (line: string) => console.error(`[${spec.name}] ${line}`);
  let instance: RubyInstance;
  const phases: Record<string, number> = {};
  if (spec.journalPath) {
    const t0 = performance.now();
    if (cached?.key !== spec.journalPath) {
      const bytes = await Deno.readFile(spec.journalPath);
      const image = decodeRubyJournal(bytes, {
        moduleHash: moduleHash(program),
        configHash: await appHash(app),
      });
      cached = { key: spec.journalPath, image };
    }
    phases.decode = performance.now() - t0;
    instance = RubyInstance.restore(program, app, cached.image, { log });
    phases.memory = instance.phases.memory;
    phases.restore = instance.phases.memory + instance.phases.instantiate;
  } else {
    instance = await RubyInstance.boot(program, app, { log });
    phases.instantiate = instance.phases.instantiate;
    phases.boot = instance.phases.init;
  }
  return { runner: createRackRunner(instance), phases };
}
