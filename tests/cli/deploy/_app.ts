/**
 * Helpers for the deploy end-to-end tests: a temporary app around a test guest, and instance specs
 * for a bundle.
 * @module
 */

import { basename } from "node:path";
import { loadApp, type ResolvedApp } from "../../../config/mod.ts";
import type { InstanceSpec } from "../../../runtime/instance/mod.ts";
import { buildGuest } from "../../runtime/snapshot/_guests.ts";

/** Writes an app directory for the snap_server guest; returns its path. */
export async function snapServerApp(dir: string, appYamlExtra = ""): Promise<string> {
  const app = `${dir}/app`;
  await Deno.mkdir(app, { recursive: true });
  await Deno.writeFile(`${app}/server.wasm`, await buildGuest("snap_server"));
  await Deno.writeTextFile(
    `${app}/app.yaml`,
    `kind: wasmer.io/App.v0
name: snap-server
package: server.wasm
env:
  PORT: "8080"
capabilities:
  instaboot:
    requests:
      - path: /inc
      - path: /inc
      - path: /cache/a=1
      - path: /write
        expect:
          status_codes: [200]
          body_includes: wrote
${appYamlExtra}`,
  );
  return app;
}

/** The instance spec the host would build for an app directory (or bundle). */
export function specOf(app: ResolvedApp, journalPath?: string): InstanceSpec {
  return {
    name: app.name,
    runner: app.runner as InstanceSpec["runner"],
    env: { ...app.env },
    args: [...app.args],
    wasmPath: app.wasmPath,
    mounts: app.mounts.map((m) => ({ guest: m.guest, host: m.host })),
    journalPath,
  };
}

/** Loads a bundle (or app dir) and compiles its module. */
export async function loadBundle(dir: string) {
  const app = await loadApp(dir);
  const module = await WebAssembly.compile(await Deno.readFile(app.wasmPath));
  return { app, module, name: basename(dir) };
}

/** Collects a guest's output. */
export function collector(): { write: (c: Uint8Array) => void; text: () => string } {
  let s = "";
  const d = new TextDecoder();
  return { write: (c) => s += d.decode(c), text: () => s };
}

/** Runs the `thaw` CLI (cli/main.ts) from the checkout with no admin token in its environment. */
export async function thaw(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = new URL("../../../", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}cli/main.ts`, ...args],
    cwd: root,
    env: { THAW_ADMIN_TOKEN: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code, stdout: d.decode(stdout), stderr: d.decode(stderr) };
}
