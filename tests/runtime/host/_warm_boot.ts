/**
 * A boot module with a `warm` export, to test that reserved blank Workers run it before they are
 * handed out. With `HANG` in the URL's query, the warm-up never ends.
 */
import type { BootResult, InstanceSpec } from "../../../runtime/instance/mod.ts";

let warmed = 0;

export function warm(): Promise<void> {
  if (new URL(import.meta.url).searchParams.has("HANG")) return new Promise(() => {});
  warmed++;
  return Promise.resolve();
}

export function boot(_module: WebAssembly.Module, _spec: InstanceSpec): Promise<BootResult> {
  const runner = { handle: () => Promise.resolve(new Response(`warmed ${warmed}`)) };
  return Promise.resolve({ runner, phases: { instantiate: 0 } });
}
