/**
 * Runners turn an HTTP request into guest work, inside an instance Worker, and the guest's
 * answer back into a response. Each implements {@linkcode Runner}:
 *
 * - `proxy`: the guest is an HTTP/1.1 server on a virtual port; requests go over kept-alive
 *   virtual connections ({@linkcode createProxyRunner}).
 * - `wcgi`: RFC 3875 CGI, one fresh instance per request ({@linkcode createWcgiRunner}).
 * - `rack`: a Ruby Rack app on ruby.wasm, booted or restored from its journal. Its face is
 *   `./rack.ts` (`createRackRunner`, the snapshot and hints tools), loaded only by what needs
 *   Ruby, so that the host and every instance Worker of a C app load neither the Ruby runner nor
 *   the journal codec. A host loads only `./rack_host.ts`, the part its main thread needs
 *   ({@linkcode loadRackRunner}), and starts Workers on {@linkcode RACK_BOOT_URL}.
 *
 * @example
 * ```ts
 * import { createWcgiRunner } from "./mod.ts";
 * const runner = createWcgiRunner({
 *   execute: () => Promise.resolve({ stdout: new TextEncoder().encode("\r\n\r\n"), exitCode: 0 }),
 * });
 * console.assert(typeof runner.handle === "function");
 * ```
 *
 * @module
 */

export type { RawRequest, RawResponse, Runner, RunnerKind, WireResult } from "./runner.ts";
export { latin1Decode, ProxyProtocolError, requestHead, type ResponseHead } from "./http1.ts";
export {
  byteReader,
  connectionFromStreams,
  createProxyRunner,
  type GuestConnection,
  guestConnections,
  type ProxyRunnerOptions,
  readResponse,
  serializeRequestHead,
  type SyncConnection,
  vnetConnection,
} from "./proxy.ts";
export {
  cgiEnvironment,
  type CgiExecution,
  CgiResponseError,
  type CgiResult,
  createWcgiRunner,
  parseCgiResponse,
  type WcgiRunnerOptions,
} from "./wcgi.ts";

/**
 * URL of the instance Worker boot function for rack apps (the Worker's `bootUrl`): it
 * restores from `spec.journalPath` when set, else boots; the app is the spec's `/app` mount.
 * Here rather than in rack.ts, so that a host can start an app's Workers before the Ruby
 * runner has loaded.
 */
export const RACK_BOOT_URL: string = new URL("./ruby/boot.ts", import.meta.url).href;

/** What the host needs from the Rack runner (rack_host.ts), beside {@linkcode RACK_BOOT_URL}. */
export interface RackSupport {
  /** Prepares ruby.wasm for instances (returns prepared bytes unchanged). */
  prepareRubyModule(bytes: Uint8Array): Promise<Uint8Array>;
  /** File name of a bundle's restore-only module, beside its prepared module. */
  RUBY_RESTORE_MODULE: string;
  /** Reads a whole file into one buffer sized from `stat`. */
  readWholeFile(path: string | URL): Promise<Uint8Array>;
  /** Where a rack app's package is mounted in the guest. */
  APP_MOUNT: string;
  /**
   * Decodes a journal once per process into a shared image for the instance Workers, with the
   * package files it was checked against.
   */
  decodeSharedJournal(
    moduleBytes: Uint8Array,
    journalPath: string,
    appDir: string,
    env: Record<string, string>,
  ): Promise<{ image: unknown; files: ReadonlyMap<string, Uint8Array> }>;
}

/**
 * Loads the Rack runner's host side on demand (rack_host.ts: the module preparation and the
 * journal decode), which only rack apps need. The specifier is computed so that loading (and
 * type-checking) a non-Ruby host never touches it.
 *
 * @example
 * ```ts ignore
 * const { prepareRubyModule, decodeSharedJournal } = await loadRackRunner();
 * ```
 */
export function loadRackRunner(): Promise<RackSupport> {
  const specifier = new URL(["rack_host", "ts"].join("."), import.meta.url).href;
  return import(specifier);
}
