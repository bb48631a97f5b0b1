/**
 * Thaw's configuration: app.yaml (Wasmer's `wasmer.io/App.v0`, plus `capabilities.instaboot` as
 * Thaw reads it) and wasmer.toml.
 *
 * Most callers need one function: {@linkcode loadApp} turns an app directory into a
 * {@linkcode ResolvedApp} (name, domains, wasm path, runner, env, args, memory limit, scaling,
 * instaboot settings, source paths) or throws a {@linkcode ConfigError} that lists every problem
 * with its file, line, column and dotted path. `thaw validate` uses {@linkcode checkApp}, which
 * returns the problems instead.
 *
 * The lower layers are public too: {@linkcode parseAppYaml}, {@linkcode parseWasmerToml} and
 * {@linkcode resolveWasmerPackage}, the zod schema {@linkcode AppYamlSchema} and its JSON Schema
 * ({@linkcode appJsonSchema}, committed as `config/app.schema.json`), and the size and duration
 * parsers.
 *
 * @example
 * ```ts
 * import { ConfigError, formatIssue, loadApp } from "./mod.ts";
 * try {
 *   const app = await loadApp("examples/wcgi-hello");
 *   console.log(app.name, app.runner, app.wasmPath, app.instaboot?.requests.length);
 * } catch (e) {
 *   if (!(e instanceof ConfigError)) throw e;
 *   for (const issue of e.issues) console.error(formatIssue(issue));
 * }
 * ```
 * @module
 */

export {
  ConfigError,
  type ConfigIssue,
  dottedPath,
  formatIssue,
  type IssueSeverity,
  sortIssues,
} from "./errors.ts";
export {
  APP_KIND,
  APP_NAME_RE,
  type AppHttpRequest,
  appJsonSchema,
  type AppYaml,
  AppYamlSchema,
  HttpHeaderSchema,
  HttpRequestSchema,
  INSTABOOT_MODES,
  INSTABOOT_TRIGGERS,
  RUNNER_KINDS,
} from "./app_schema.ts";
export {
  analyzeAppYaml,
  type AppYamlAnalysis,
  parseAppYaml,
  type ParseAppYamlOptions,
  type ParsedAppYaml,
} from "./app_yaml.ts";
export {
  checkWasmFile,
  type Mount,
  type ParsedWasmerToml,
  parseWasmerToml,
  type ResolvedPackage,
  resolveWasmerPackage,
  RUNNER_ALIASES,
  type RunnerKind,
  type WasmerToml,
  WasmerTomlSchema,
} from "./wasmer_toml.ts";
export {
  type AppSources,
  checkApp,
  type CheckAppResult,
  type HealthCheckSpec,
  type HttpRequestSpec,
  type InstabootMode,
  type InstabootSettings,
  type InstabootTrigger,
  loadApp,
  type LoadAppOptions,
  type ResolvedApp,
} from "./load_app.ts";
export { inspectModule, type ModuleFacts } from "./wasm_module.ts";
export { BYTE_SIZE_PATTERN, parseByteSize } from "./byte_size.ts";
export { DURATION_PATTERN, parseDuration } from "./duration.ts";
export type { Position } from "./_issues.ts";
