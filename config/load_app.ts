/**
 * Loads an app directory into one resolved, validated description: app.yaml plus the package it
 * names (a .wasm file or a directory with a wasmer.toml).
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import type { AppHttpRequest, AppYaml } from "./app_schema.ts";
import { INSTABOOT_TRIGGERS } from "./app_schema.ts";
import { parseAppYaml } from "./app_yaml.ts";
import { parseByteSize } from "./byte_size.ts";
import { parseDuration } from "./duration.ts";
import { ConfigError, type ConfigIssue, sortIssues } from "./errors.ts";
import {
  checkWasmFile,
  type Mount,
  parseWasmerToml,
  resolveWasmerPackage,
  type RunnerKind,
} from "./wasmer_toml.ts";

/** A snapshot trigger Thaw implements. */
export type InstabootTrigger = typeof INSTABOOT_TRIGGERS[number];
/** `bootstrap` (snapshot once the warm-up requests are done) or a single trigger. */
export type InstabootMode = "bootstrap" | InstabootTrigger;

/** An HTTP request to send to the app (instaboot warm-up or health check), normalized. */
export interface HttpRequestSpec {
  /** Path and query, starting with "/". */
  readonly path: string;
  /** Upper-case method. @default {"GET"} */
  readonly method: string;
  /** Header name/value pairs, in file order. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: string;
  /** Timeout in milliseconds, if set. */
  readonly timeoutMs?: number;
  /** Checks on the response; all set checks must pass. */
  readonly expect?: {
    readonly statusCodes?: readonly number[];
    readonly bodyIncludes?: string;
    /** JavaScript regular expression source (already checked to compile). */
    readonly bodyRegex?: string;
  };
}

/** Instaboot settings, from `capabilities.instaboot`. */
export interface InstabootSettings {
  /** "bootstrap", or the first trigger when triggers are given. */
  readonly mode: InstabootMode;
  /** The triggers (any of them takes the snapshot); empty in bootstrap mode. */
  readonly triggers: readonly InstabootTrigger[];
  /** The warm-up requests; `GET /` when app.yaml names none (as Wasmer does). */
  readonly requests: readonly HttpRequestSpec[];
  /** Snapshots older than this are rebuilt, if set. */
  readonly maxAgeMs?: number;
}

/** An HTTP health check, from `health_checks[].http`. */
export interface HealthCheckSpec {
  readonly request: HttpRequestSpec;
  /** @default {60000} */
  readonly intervalMs: number;
  /** @default {1} */
  readonly unhealthyThreshold: number;
  /** @default {1} */
  readonly healthyThreshold: number;
}

/** Where the app's settings came from (absolute paths). */
export interface AppSources {
  readonly appYaml: string;
  readonly wasmerToml?: string;
  readonly wasm: string;
}

/** An app, resolved and validated: everything the host and deploy need. */
export interface ResolvedApp {
  readonly name: string;
  readonly description?: string;
  readonly owner?: string;
  /** Absolute app directory (the one holding app.yaml). */
  readonly appDir: string;
  readonly domains: readonly string[];
  /** Absolute path of the .wasm module. */
  readonly wasmPath: string;
  readonly runner: RunnerKind;
  /** The runner as written (wasmer.toml runner, app.yaml `runner`, or "proxy" by default). */
  readonly runnerUri: string;
  /** `[command.annotations]` from wasmer.toml (empty for a bare .wasm). */
  readonly runnerAnnotations: Readonly<Record<string, unknown>>;
  /** `wcgi` (default) or `rfc-3875`, from `annotations.wcgi.dialect`. */
  readonly wcgiDialect?: "wcgi" | "rfc-3875";
  /** Absolute package directory: the wasmer.toml directory, or the .wasm file's directory. */
  readonly packageDir: string;
  /** `[fs]` mappings from wasmer.toml. */
  readonly mounts: readonly Mount[];
  /** wasmer.toml `annotations.wasi.env`, overridden by app.yaml `env`. */
  readonly env: Readonly<Record<string, string>>;
  /** wasmer.toml `annotations.wasi.main-args`, then app.yaml `cli_args`. */
  readonly args: readonly string[];
  /** Working directory from `annotations.wasi.cwd`, if set. */
  readonly cwd?: string;
  /** `capabilities.memory.limit` in bytes, if set. */
  readonly memoryLimitBytes?: number;
  readonly scaling: { readonly mode?: "single_concurrency" };
  /** Instaboot settings, or undefined when `capabilities.instaboot` is absent. */
  readonly instaboot?: InstabootSettings;
  readonly healthChecks: readonly HealthCheckSpec[];
  readonly volumes: readonly { readonly name: string; readonly mount: string }[];
  readonly debug: boolean;
  readonly sources: AppSources;
  /** Warnings from app.yaml and wasmer.toml. */
  readonly warnings: readonly ConfigIssue[];
  /** The validated app.yaml as written, for fields not lifted above. */
  readonly config: AppYaml;
}

/** Options for {@linkcode loadApp}. */
export interface LoadAppOptions {
  /** How file names appear in issues: "relative" to the cwd (default) or "absolute". */
  readonly paths?: "relative" | "absolute";
}

/** The outcome of {@linkcode checkApp}: an app, or every problem. */
export type CheckAppResult =
  | { readonly ok: true; readonly app: ResolvedApp; readonly warnings: readonly ConfigIssue[] }
  | {
    readonly ok: false;
    readonly errors: readonly ConfigIssue[];
    readonly warnings: readonly ConfigIssue[];
  };

/**
 * Loads and validates an app: `target` is an app directory (holding app.yaml) or an app.yaml path.
 *
 * @throws {ConfigError} listing every problem in app.yaml, wasmer.toml and the package.
 * @example
 * ```ts
 * import { loadApp } from "./load_app.ts";
 * const app = await loadApp("examples/wcgi-hello");
 * // app.runner === "wcgi"; app.wasmPath ends with "wcgi-hello.wasm"
 * ```
 */
export async function loadApp(target: string, options: LoadAppOptions = {}): Promise<ResolvedApp> {
  const result = await checkApp(target, options);
  if (!result.ok) throw new ConfigError(result.errors, result.warnings);
  return result.app;
}

/**
 * Like {@linkcode loadApp} but returns problems instead of throwing them (for `thaw validate`).
 *
 * @example
 * ```ts
 * import { checkApp } from "./load_app.ts";
 * const result = await checkApp("examples/wcgi-hello");
 * if (!result.ok) console.error(result.errors.length, "problems");
 * ```
 */
export async function checkApp(
  target: string,
  options: LoadAppOptions = {},
): Promise<CheckAppResult> {
  const show = (p: string) => options.paths === "absolute" ? resolve(p) : p;
  let appYamlPath = target;
  try {
    if ((await Deno.stat(target)).isDirectory) appYamlPath = join(target, "app.yaml");
  } catch {
    // Reported below when reading the file.
  }
  const file = show(appYamlPath);
  let text: string;
  try {
    text = await Deno.readTextFile(appYamlPath);
  } catch (e) {
    const message = e instanceof Deno.errors.NotFound
      ? basename(appYamlPath) === "app.yaml"
        ? "does not exist; an app directory needs an app.yaml (see docs/config.md)"
        : "does not exist; name an app directory (holding app.yaml) or an app.yaml file"
      : `cannot be read: ${(e as Error).message}`;
    return fail([{ file, line: 0, column: 0, path: "", message, severity: "error" }], []);
  }

  let parsed;
  try {
    parsed = parseAppYaml(text, { file });
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.issues, e.warnings);
    throw e;
  }
  const { config, locate } = parsed;
  const warnings: ConfigIssue[] = [...parsed.warnings];
  const appDir = resolve(dirname(appYamlPath));
  const packageIssue = (message: string): ConfigIssue => ({
    file,
    ...locate(["package"]),
    path: "package",
    message,
    severity: "error",
  });

  // Resolve the package: a .wasm file, or a directory with a wasmer.toml.
  const packagePath = resolve(appDir, config.package);
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(packagePath);
  } catch {
    const registry = /^[a-z0-9_-]+\/[a-z0-9_.-]+(@[^/]+)?$/i.test(config.package) &&
      !config.package.endsWith(".wasm");
    return fail(
      [packageIssue(
        registry
          ? `"${config.package}" looks like a registry package; Thaw has no registry access: ` +
            "point package at a local .wasm file or a directory with a wasmer.toml"
          : `"${config.package}" does not exist (looked for ${packagePath})`,
      )],
      warnings,
    );
  }

  let wasmPath: string;
  let runner: RunnerKind = config.runner ?? "proxy";
  let runnerUri: string = config.runner ?? "proxy";
  let packageDir: string;
  let wasmerToml: string | undefined;
  let resolvedExtras: {
    mounts: readonly Mount[];
    annotations: Readonly<Record<string, unknown>>;
    args: readonly string[];
    env: Readonly<Record<string, string>>;
    cwd?: string;
    wcgiDialect?: "wcgi" | "rfc-3875";
  } = { mounts: [], annotations: {}, args: [], env: {} };

  if (info.isDirectory) {
    wasmerToml = join(packagePath, "wasmer.toml");
    const tomlFile = show(join(dirname(appYamlPath), config.package, "wasmer.toml"));
    let tomlText: string;
    try {
      tomlText = await Deno.readTextFile(wasmerToml);
    } catch {
      return fail(
        [packageIssue(
          `names the directory ${packagePath}, which has no wasmer.toml; ` +
            "add one or point package at a .wasm file",
        )],
        warnings,
      );
    }
    try {
      const manifest = parseWasmerToml(tomlText, { file: tomlFile });
      const pkg = await resolveWasmerPackage(manifest, tomlFile);
      warnings.push(...pkg.warnings);
      wasmPath = resolve(pkg.wasmPath);
      packageDir = resolve(pkg.packageDir);
      if (config.runner !== undefined && config.runner !== pkg.runner) {
        warnings.push({
          file,
          ...locate(["runner"]),
          path: "runner",
          message: `overrides the wasmer.toml runner "${pkg.runnerUri}" with "${config.runner}"`,
          severity: "warning",
        });
      } else {
        runner = pkg.runner;
        runnerUri = pkg.runnerUri;
      }
      resolvedExtras = pkg;
    } catch (e) {
      if (e instanceof ConfigError) return fail(e.issues, [...warnings, ...e.warnings]);
      throw e;
    }
  } else {
    wasmPath = packagePath;
    packageDir = dirname(packagePath);
    const problem = await checkWasmFile(packagePath);
    if (problem !== undefined) return fail([packageIssue(problem)], warnings);
  }
  if (runner === "command") {
    warnings.push({
      file,
      ...locate(["runner"]),
      path: "runner",
      message: 'is "command": the program runs once and is not served over HTTP',
      severity: "warning",
    });
  }

  const capabilities = config.capabilities ?? {};
  const limit = capabilities.memory?.limit;
  const instaboot = capabilities.instaboot;
  const app: ResolvedApp = {
    name: config.name,
    ...(config.description !== undefined ? { description: config.description } : {}),
    ...(config.owner !== undefined ? { owner: config.owner } : {}),
    appDir,
    domains: config.domains ?? [],
    wasmPath,
    runner,
    runnerUri,
    runnerAnnotations: resolvedExtras.annotations,
    ...(resolvedExtras.wcgiDialect ? { wcgiDialect: resolvedExtras.wcgiDialect } : {}),
    packageDir,
    mounts: resolvedExtras.mounts,
    env: { ...resolvedExtras.env, ...(config.env ?? {}) },
    args: [...resolvedExtras.args, ...(config.cli_args ?? [])],
    ...(resolvedExtras.cwd !== undefined ? { cwd: resolvedExtras.cwd } : {}),
    ...(limit !== undefined ? { memoryLimitBytes: parseByteSize(limit)! } : {}),
    scaling: config.scaling?.mode ? { mode: config.scaling.mode } : {},
    ...(instaboot !== undefined ? { instaboot: toInstaboot(instaboot) } : {}),
    healthChecks: (config.health_checks ?? []).map(({ http }) => ({
      request: toRequest(http),
      intervalMs: http.interval !== undefined ? parseDuration(http.interval)! : 60_000,
      unhealthyThreshold: http.unhealthy_threshold ?? 1,
      healthyThreshold: http.healthy_threshold ?? 1,
    })),
    volumes: config.volumes ?? [],
    debug: config.debug ?? false,
    sources: {
      appYaml: resolve(appYamlPath),
      ...(wasmerToml !== undefined ? { wasmerToml } : {}),
      wasm: wasmPath,
    },
    warnings: sortIssues(warnings),
    config,
  };
  return { ok: true, app, warnings: app.warnings };
}

function fail(errors: readonly ConfigIssue[], warnings: readonly ConfigIssue[]): CheckAppResult {
  return { ok: false, errors: sortIssues(errors), warnings: sortIssues(warnings) };
}

type InstabootYaml = NonNullable<NonNullable<AppYaml["capabilities"]>["instaboot"]>;

function toInstaboot(instaboot: InstabootYaml): InstabootSettings {
  const mode = instaboot.mode ?? "bootstrap";
  const triggers: InstabootTrigger[] = typeof mode === "string"
    ? (mode === "bootstrap" ? [] : [mode])
    : [...new Set(mode.triggers)];
  const requests = instaboot.requests ?? [];
  return {
    mode: triggers[0] ?? "bootstrap",
    triggers,
    requests: requests.length > 0 ? requests.map(toRequest) : [{
      path: "/",
      method: "GET",
      headers: [],
    }],
    ...(instaboot.max_age !== undefined ? { maxAgeMs: parseDuration(instaboot.max_age)! } : {}),
  };
}

function toRequest(request: AppHttpRequest): HttpRequestSpec {
  const headers = request.headers === undefined
    ? []
    : Array.isArray(request.headers)
    ? request.headers.map((h) => [h.name, h.value] as const)
    : Object.entries(request.headers);
  const expect = request.expect;
  return {
    path: request.path,
    method: (request.method ?? "GET").toUpperCase(),
    headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    ...(request.timeout !== undefined ? { timeoutMs: parseDuration(request.timeout)! } : {}),
    ...(expect !== undefined
      ? {
        expect: {
          ...(expect.status_codes ? { statusCodes: expect.status_codes } : {}),
          ...(expect.body_includes !== undefined ? { bodyIncludes: expect.body_includes } : {}),
          ...(expect.body_regex !== undefined ? { bodyRegex: expect.body_regex } : {}),
        },
      }
      : {}),
  };
}
