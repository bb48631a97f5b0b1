/**
 * Runners turn an HTTP request into guest work, inside an instance Worker, and the guest's
 * answer back into a response. Each implements {@linkcode Runner}:
 *
 * - `proxy`: the guest is an HTTP/1.1 server on a virtual port; requests go over kept-alive
 *   virtual connections ({@linkcode createProxyRunner}).
 * - `wcgi`: RFC 3875 CGI, one fresh instance per request ({@linkcode createWcgiRunner}).
 * - `rack`: a Ruby Rack app on ruby.wasm, booted or restored from its journal
 *   ({@linkcode createRackRunner}; the Worker boot function is at {@linkcode RACK_BOOT_URL}).
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

export type { Runner, RunnerKind } from "./runner.ts";
export {
  byteReader,
  createProxyRunner,
  type GuestConnection,
  ProxyProtocolError,
  type ProxyRunnerOptions,
  readResponse,
  type ResponseHead,
  serializeRequestHead,
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
export {
  createRackRunner,
  decodeRubyJournal,
  loadRubyProgram,
  MemoryPool,
  prepareRubyModule,
  RACK_BOOT_URL,
  type RackApp,
  type RackRunner,
  type RackSnapshot,
  readRackApp,
  RubyInstance,
  rubyProgramFromModule,
  snapshotRackApp,
  type WarmupRequest,
} from "./rack.ts";

/**
 * Loads the Rack runner on demand: it pulls in the Ruby support code, which only rack apps
 * need. The host uses `RACK_BOOT_URL` (the Worker boot function) and `prepareRubyModule`.
 *
 * @example
 * ```ts ignore
 * const { RACK_BOOT_URL, prepareRubyModule } = await loadRackRunner();
 * ```
 */
export function loadRackRunner(): Promise<typeof import("./rack.ts")> {
  return import("./rack.ts");
}
