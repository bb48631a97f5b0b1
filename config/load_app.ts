/**
 * Loads an app directory into one resolved, validated description: app.yaml plus the package it
 * names (a .wasm file or a directory with a wasmer.toml).
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import type { AppHttpRequest, AppYaml } from "./app_schema.ts";
import { INSTABOOT_TRIGGERS } from "./app_schema.ts";
import { analyzeAppYaml } from "./app_yaml.ts";
import { inspectModule, type ModuleFacts } from "./wasm_module.ts";
import type { Position } from "./_issues.ts";
import { parseByteSize } from "./byte_size.ts";
import { parseDuration } from "./duration.ts";
import { ConfigError, type ConfigIssue, type IssueSeverity, sortIssues } from "./errors.ts";
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
  /** Request body as text. */
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
  /** The request to send. */
  readonly request: HttpRequestSpec;
  /** @default {60000} */
  /** Time between checks in milliseconds. */
  readonly intervalMs: number;
  /** @default {1} */
  /** Failed checks before the app counts as unhealthy. */
  readonly unhealthyThreshold: number;
  /** @default {1} */
  /** Passed checks before it counts as healthy again. */
  readonly healthyThreshold: number;
}

/** Where the app's settings came from (absolute paths). */
export interface AppSources {
  /** The app.yaml. */
  readonly appYaml: string;
  /** The wasmer.toml, when `package` names a directory. */
  readonly wasmerToml?: string;
  /** The .wasm module. */
  readonly wasm: string;
}

/** An app, resolved and validated: everything the host and deploy need. */
export interface ResolvedApp {
  /** The app name (`name`). */
  readonly name: string;
  /** `description`, if set. */
  readonly description?: string;
  /** `owner`, if set. */
  readonly owner?: string;
  /** Absolute app directory (the one holding app.yaml). */
  readonly appDir: string;
  /** `domains`: host names routed to the app. */
  readonly domains: readonly string[];
  /** Absolute path of the .wasm module. */
  readonly wasmPath: string;
  /** How the host serves the app. */
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
  /** `scaling`: `single_concurrency` allows one request at a time per instance. */
  readonly scaling: { readonly mode?: "single_concurrency" };
  /** Instaboot settings, or undefined when `capabilities.instaboot` is absent. */
  readonly instaboot?: InstabootSettings;
  /** `health_checks`, normalized. */
  readonly healthChecks: readonly HealthCheckSpec[];
  /** `volumes`, as written. */
  readonly volumes: readonly { readonly name: string; readonly mount: string }[];
  /** `debug`: detailed error pages. @default {false} */
  readonly debug: boolean;
  /** Absolute paths of the files the app came from. */
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
  /**
   * Also compile the module and check it against the app: known import modules, the entry point
   * the runner calls, and the memory limit. `thaw validate` does; the host skips it because it
   * compiles the module anyway. @default {false}
   */
  readonly inspectModule?: boolean;
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
  if (appYamlPath === target && !/\.ya?ml$/i.test(target)) {
    try {
      await Deno.stat(target);
      const message = "is neither an app directory nor an app.yaml file";
      return fail([{ file, line: 0, column: 0, path: "", message, severity: "error" }], []);
    } catch {
      // Missing: reported below.
    }
  }
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

  const analysis = analyzeAppYaml(text, { file });
  const { locate } = analysis;
  const warnings: ConfigIssue[] = [...analysis.warnings];
  const errors: ConfigIssue[] = [...analysis.errors];
  const appDir = resolve(dirname(appYamlPath));

  // Check the package even when other fields are wrong, so that one run shows every problem.
  const raw = analysis.data as Record<string, unknown> | undefined;
  const packageRef = analysis.config?.package ??
    (typeof raw?.package === "string" && raw.package !== "" ? raw.package : undefined);
  let pkg: PackageFacts | undefined;
  if (packageRef !== undefined) {
    const found = await resolvePackage(packageRef, {
      appDir,
      appYamlDir: dirname(appYamlPath),
      file,
      locate,
      show,
      runnerOverride: analysis.config?.runner,
    });
    errors.push(...found.errors);
    warnings.push(...found.warnings);
    pkg = found.pkg;
  }
  const config = analysis.config;
  if (errors.length > 0 || config === undefined || pkg === undefined) return fail(errors, warnings);
  const { wasmPath, runner, runnerUri, packageDir, wasmerToml } = pkg;
  const resolvedExtras = pkg.extras;

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
  if (options.inspectModule) {
    const problems = await moduleProblems(app, file, locate);
    if (problems.length > 0) return fail(problems, app.warnings);
  }
  return { ok: true, app, warnings: app.warnings };
}

/** Import modules a Thaw instance provides to every guest. */
const PROVIDED_IMPORTS = ["wasi_snapshot_preview1", "wasix_32v1", "wasix_64v1"];
/**
 * Extra import modules a runner provides: the Rack runner answers ruby.wasm's js interop, and
 * hands the prepared ruby.wasm of a deploy bundle its memory (`thaw.memory`).
 */
const RUNNER_IMPORTS: Partial<Record<RunnerKind, readonly string[]>> = {
  rack: ["rb-js-abi-host", "canonical_abi", "thaw"],
};

/** Checks the compiled module against the app: imports, entry point, memory limit. */
async function moduleProblems(
  app: ResolvedApp,
  file: string,
  locate: (path: readonly PropertyKey[]) => Position,
): Promise<ConfigIssue[]> {
  const at = (path: readonly string[], message: string): ConfigIssue => ({
    file,
    ...locate(path),
    path: path.join("."),
    message,
    severity: "error",
  });
  let facts: ModuleFacts;
  try {
    facts = await inspectModule(await Deno.readFile(app.wasmPath));
  } catch (e) {
    return [
      at(["package"], `names ${app.wasmPath}, which does not compile: ${(e as Error).message}`),
    ];
  }
  const problems: ConfigIssue[] = [];
  const provided = [...PROVIDED_IMPORTS, ...(RUNNER_IMPORTS[app.runner] ?? [])];
  const foreign = facts.importModules.filter((m) => !provided.includes(m));
  if (foreign.length > 0) {
    problems.push(at(
      ["package"],
      `names a module that imports from ${foreign.map((m) => `"${m}"`).join(", ")}; ` +
        `the ${app.runner} runner provides only ${provided.join(", ")}`,
    ));
  }
  const hasStart = facts.exports.includes("_start");
  if (app.runner !== "rack" && !hasStart) {
    problems.push(at(
      ["package"],
      `names a module without a _start export, which the ${app.runner} runner calls; ` +
        "build it as a command (a program with main), not a reactor",
    ));
  } else if (!hasStart && !facts.exports.includes("_initialize")) {
    problems.push(at(["package"], "names a module that exports neither _start nor _initialize"));
  }
  const limit = app.memoryLimitBytes;
  if (limit !== undefined && facts.initialMemoryBytes !== undefined) {
    if (facts.initialMemoryBytes > limit) {
      problems.push(at(
        ["capabilities", "memory", "limit"],
        `is below the module's initial memory of ${facts.initialMemoryBytes} bytes; ` +
          `raise it to at least ${Math.ceil(facts.initialMemoryBytes / 2 ** 20)} MiB`,
      ));
    }
  }
  return problems;
}

interface PackageFacts {
  wasmPath: string;
  runner: RunnerKind;
  runnerUri: string;
  packageDir: string;
  wasmerToml?: string;
  extras: {
    mounts: readonly Mount[];
    annotations: Readonly<Record<string, unknown>>;
    args: readonly string[];
    env: Readonly<Record<string, string>>;
    cwd?: string;
    wcgiDialect?: "wcgi" | "rfc-3875";
  };
}

interface PackageContext {
  appDir: string;
  appYamlDir: string;
  file: string;
  locate: (path: readonly PropertyKey[]) => Position;
  show: (path: string) => string;
  runnerOverride?: RunnerKind;
}

/** Resolves app.yaml's `package`: a .wasm file, or a directory with a wasmer.toml. */
async function resolvePackage(
  ref: string,
  ctx: PackageContext,
): Promise<{ pkg?: PackageFacts; errors: ConfigIssue[]; warnings: ConfigIssue[] }> {
  const { file, locate, runnerOverride } = ctx;
  const warnings: ConfigIssue[] = [];
  const issue = (path: string, message: string, severity: IssueSeverity): ConfigIssue => ({
    file,
    ...locate([path]),
    path,
    message,
    severity,
  });
  const failWith = (message: string) => ({
    errors: [issue("package", message, "error")],
    warnings,
  });

  const packagePath = resolve(ctx.appDir, ref);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(packagePath);
  } catch {
    const registry = /^[a-z0-9_-]+\/[a-z0-9_.-]+(@[^/]+)?$/i.test(ref) && !ref.endsWith(".wasm");
    return failWith(
      registry
        ? `"${ref}" looks like a registry package; Thaw has no registry access: ` +
          "point package at a local .wasm file or a directory with a wasmer.toml"
        : `"${ref}" does not exist (looked for ${packagePath})`,
    );
  }

  let facts: PackageFacts;
  if (info.isDirectory) {
    const wasmerToml = join(packagePath, "wasmer.toml");
    const tomlFile = ctx.show(join(ctx.appYamlDir, ref, "wasmer.toml"));
    let tomlText: string;
    try {
      tomlText = await Deno.readTextFile(wasmerToml);
    } catch {
      return failWith(
        `names the directory ${packagePath}, which has no wasmer.toml; ` +
          "add one or point package at a .wasm file",
      );
    }
    try {
      const resolved = await resolveWasmerPackage(
        parseWasmerToml(tomlText, { file: tomlFile }),
        tomlFile,
      );
      warnings.push(...resolved.warnings);
      facts = {
        wasmPath: resolve(resolved.wasmPath),
        runner: resolved.runner,
        runnerUri: resolved.runnerUri,
        packageDir: resolve(resolved.packageDir),
        wasmerToml,
        extras: resolved,
      };
      if (runnerOverride !== undefined && runnerOverride !== resolved.runner) {
        warnings.push(issue(
          "runner",
          `overrides the wasmer.toml runner "${resolved.runnerUri}" with "${runnerOverride}"`,
          "warning",
        ));
        facts.runner = runnerOverride;
        facts.runnerUri = runnerOverride;
      }
    } catch (e) {
      if (e instanceof ConfigError) {
        return { errors: [...e.issues], warnings: [...warnings, ...e.warnings] };
      }
      throw e;
    }
  } else {
    const problem = await checkWasmFile(packagePath);
    if (problem !== undefined) return failWith(problem);
    facts = {
      wasmPath: packagePath,
      runner: runnerOverride ?? "proxy",
      runnerUri: runnerOverride ?? "proxy",
      packageDir: dirname(packagePath),
      extras: { mounts: [], annotations: {}, args: [], env: {} },
    };
  }
  if (facts.runner === "command") {
    warnings.push(issue(
      "runner",
      'is "command": the program runs once and is not served over HTTP',
      "warning",
    ));
  }
  return { pkg: facts, errors: [], warnings };
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
