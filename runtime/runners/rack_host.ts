/**
 * The host's side of the Rack runner: what a host's main thread needs to serve rack apps (check
 * and prepare the module, decode a journal once per process and share it with the instance
 * Workers) without loading the Ruby runtime, which only the Workers run. `loadRackRunner()`
 * (runners/mod.ts) loads this module; `rack.ts` re-exports `decodeSharedJournal` with the rest of
 * the runner.
 *
 * @example
 * ```ts ignore
 * const { decodeSharedJournal } = await loadRackRunner();
 * const { image, files } = await decodeSharedJournal(bytes, "bundle/snapshot.journal", "bundle", {});
 * ```
 * @module
 */

import { appHash, decodeRubyJournal, moduleHash } from "./ruby/journal.ts";
import type { MemoryImage } from "./ruby/instance.ts";
import { readRackApp } from "./ruby/rack_runner.ts";
import { readWholeFileShared } from "./ruby/read_file.ts";
import { readLayoutFromBytes } from "./ruby/wasm_module.ts";

export { APP_MOUNT } from "./ruby/prelude.ts";
export { RUBY_RESTORE_MODULE } from "./ruby/rack_runner.ts";
export { readWholeFile } from "./ruby/read_file.ts";
export { prepareRubyModule } from "./ruby/wasm_module.ts";

/** What {@linkcode decodeSharedJournal} gives the host to post to each instance Worker. */
export interface SharedRackState {
  /** The decoded journal, its bytes in a `SharedArrayBuffer`. */
  readonly image: MemoryImage;
  /** The app's package files the journal was checked against. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/**
 * Decodes an app's journal once per host process into an image whose bytes live in a
 * `SharedArrayBuffer`. The host posts it to each instance Worker (in `InstanceSpec.journalImage`),
 * which restores from it without reading or decoding the journal itself. The journal is checked
 * against the module (`moduleBytes`, the prepared or restore-only module) and the app package,
 * exactly as a Worker would check it; the package files it was checked against come with it
 * (`InstanceSpec.appFiles`), so that a Worker need not read them again.
 *
 * @example
 * ```ts ignore
 * const { image, files } = await decodeSharedJournal(bytes, "bundle/snapshot.journal", "bundle", {});
 * ```
 * @throws {RubyJournalError} when the journal does not apply (the Worker then decodes it itself
 * and reports why).
 */
export async function decodeSharedJournal(
  moduleBytes: Uint8Array,
  journalPath: string,
  appDir: string,
  env: Record<string, string>,
): Promise<SharedRackState> {
  const layout = readLayoutFromBytes(moduleBytes);
  const [app, bytes] = await Promise.all([
    readRackApp(appDir, { env }),
    readWholeFileShared(journalPath),
  ]);
  const image = decodeRubyJournal(bytes, {
    moduleHash: moduleHash({ layout }),
    configHash: await appHash(app),
  });
  return { image, files: app.files };
}
