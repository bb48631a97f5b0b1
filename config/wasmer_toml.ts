/**
 * Parses wasmer.toml (Wasmer's package manifest) and resolves the command an app runs: its module
 * file, its runner kind, its annotations and the directories mapped by `[fs]`.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import { z } from "zod";
import { dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";
import { convertIssues, type Position, withoutKeys } from "./_issues.ts";
import { ConfigError, type ConfigIssue, dottedPath, sortIssues } from "./errors.ts";
import type { RUNNER_KINDS } from "./app_schema.ts";

/** How a Thaw host serves the app: see docs/config.md. */
export type RunnerKind = typeof RUNNER_KINDS[number];

/**
 * Runner names as written in `[[command]] runner = ...` and the kind Thaw gives each. Wasmer's
 * WASI runner runs a server that the edge proxies to, so it maps to "proxy".
 */
export const RUNNER_ALIASES: Readonly<Record<string, RunnerKind>> = {
  "wasi": "proxy",
  "https://webc.org/runner/wasi": "proxy",
  "https://webc.org/runner/wasi/command@unstable_": "proxy",
  "wcgi": "wcgi",
  "https://webc.org/runner/wcgi": "wcgi",
  "proxy": "proxy",
  "thaw/proxy": "proxy",
  "thaw/wcgi": "wcgi",
  "rack": "rack",
  "thaw/rack": "rack",
  "command": "command",
  "thaw/command": "command",
};

const UNSUPPORTED_RUNNERS = new Set([
  "emscripten",
  "https://webc.org/runner/emscripten",
  "https://webc.org/runner/emscripten/command@unstable_",
]);

const stringList = z.array(z.string());

const ModuleSchema = z.strictObject({
  name: z.string().min(1),
  source: z.string().min(1),
  abi: z.enum(["wasi", "none", "generic", "emscripten", "wasm4"]).optional(),
  kind: z.string().optional(),
  interfaces: z.record(z.string(), z.string()).optional(),
  bindings: z.unknown().optional(),
});

const CommandSchema = z.strictObject({
  name: z.string().min(1),
  module: z.string().min(1),
  runner: z.string().min(1).optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
  main_args: z.string().optional(),
  package: z.string().optional(),
});

const WasiAnnotations = z.object({
  "main-args": stringList.optional(),
  env: z.array(z.string().regex(/^[^=]+=/, { error: 'must be "NAME=value"' })).optional(),
  cwd: z.string().optional(),
});

const WcgiAnnotations = z.object({
  dialect: z.enum(["wcgi", "rfc-3875"]).optional(),
});

/** The schema of wasmer.toml, as far as Thaw reads it. */
export const WasmerTomlSchema = z.strictObject({
  package: z.strictObject({
    name: z.string().optional(),
    version: z.string().optional(),
    description: z.string().optional(),
    license: z.string().optional(),
    "license-file": z.string().optional(),
    readme: z.string().optional(),
    repository: z.string().optional(),
    homepage: z.string().optional(),
    "wasmer-extra-flags": z.string().optional(),
    "disable-command-rename": z.boolean().optional(),
    "rename-commands-to-raw-command-name": z.boolean().optional(),
    entrypoint: z.string().optional(),
    private: z.boolean().optional(),
  }).optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  fs: z.record(z.string(), z.string()).optional(),
  module: z.array(ModuleSchema).optional(),
  command: z.array(CommandSchema).optional(),
});

/** A validated wasmer.toml. */
export type WasmerToml = z.output<typeof WasmerTomlSchema>;

/** A wasmer.toml, parsed and validated, with a way to locate its keys. */
export interface ParsedWasmerToml {
  /** The validated manifest. */
  readonly manifest: WasmerToml;
  /** Unknown keys. */
  readonly warnings: readonly ConfigIssue[];
  /** Locates a path's key in the source (best effort: falls back to its table). */
  readonly locate: (path: readonly PropertyKey[]) => Position;
}

/** A directory mapped into the guest: `[fs] "/guest" = "host-dir"`. */
export interface Mount {
  /** Absolute guest path, e.g. `/public`. */
  readonly guest: string;
  /** Absolute host directory. */
  readonly host: string;
}

/** The command an app runs, resolved from a wasmer.toml. */
export interface ResolvedPackage {
  /** Absolute path of the .wasm module. */
  readonly wasmPath: string;
  /** The kind of runner the command names. */
  readonly runner: RunnerKind;
  /** The runner as written in wasmer.toml, e.g. `https://webc.org/runner/wcgi`. */
  readonly runnerUri: string;
  /** The command's name. */
  readonly command: string;
  /** The package directory (the one holding wasmer.toml). */
  readonly packageDir: string;
  /** `[fs]` mappings. */
  readonly mounts: readonly Mount[];
  /** `[command.annotations]` as written, for runner-specific settings. */
  readonly annotations: Readonly<Record<string, unknown>>;
  /** `annotations.wasi.main-args`. */
  readonly args: readonly string[];
  /** `annotations.wasi.env`, split at the first "=". */
  readonly env: Readonly<Record<string, string>>;
  /** `annotations.wasi.cwd`, if set. */
  readonly cwd?: string;
  /** `annotations.wcgi.dialect`, if set. */
  readonly wcgiDialect?: "wcgi" | "rfc-3875";
  /** Warnings about the manifest and the choice of command. */
  readonly warnings: readonly ConfigIssue[];
}

/**
 * Parses wasmer.toml text.
 *
 * @throws {ConfigError} for TOML syntax errors (with line and column) and schema errors.
 * @example
 * ```ts
 * import { parseWasmerToml } from "./wasmer_toml.ts";
 * const { manifest } = parseWasmerToml(
 *   '[[module]]\nname = "app"\nsource = "app.wasm"\nabi = "wasi"\n',
 * );
 * // manifest.module?.[0].source === "app.wasm"
 * ```
 */
export function parseWasmerToml(
  source: string,
  options: { readonly file?: string } = {},
): ParsedWasmerToml {
  const file = options.file ?? "wasmer.toml";
  let data: unknown;
  try {
    data = toPlain(parse(source));
  } catch (e) {
    if (e instanceof TomlError) {
      throw new ConfigError([{
        file,
        line: e.line,
        column: e.column,
        path: "",
        message: e.message.split("\n")[0],
        severity: "error",
      }]);
    }
    throw e;
  }
  const positions = scanTomlPositions(source);
  const locate = (path: readonly PropertyKey[]): Position => {
    for (let n = path.length; n >= 0; n--) {
      const pos = positions.get(dottedPath(path.slice(0, n)));
      if (pos !== undefined) return pos;
    }
    return { line: 1, column: 1 };
  };
  const result = WasmerTomlSchema.safeParse(data, { reportInput: true });
  if (result.success) return { manifest: result.data, warnings: [], locate };
  const converted = convertIssues(result.error.issues, file, (p) => locate(p));
  if (converted.errors.length > 0) {
    throw new ConfigError(sortIssues(converted.errors), sortIssues(converted.warnings));
  }
  const again = WasmerTomlSchema.parse(withoutKeys(data, converted.unknownKeys));
  return { manifest: again, warnings: sortIssues(converted.warnings), locate };
}

/**
 * Resolves the command an app runs from a parsed wasmer.toml: the `entrypoint` command, or the
 * only command. Checks that the module file exists and is WebAssembly, and that `[fs]` host
 * directories exist.
 *
 * @param manifestPath path of the wasmer.toml (module sources are relative to its directory)
 * @throws {ConfigError} listing every problem.
 */
export async function resolveWasmerPackage(
  parsed: ParsedWasmerToml,
  manifestPath: string,
): Promise<ResolvedPackage> {
  const file = manifestPath;
  const dir = resolve(dirname(manifestPath));
  const { manifest, locate } = parsed;
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [...parsed.warnings];
  const note = (path: readonly PropertyKey[], message: string, severity = "error") =>
    (severity === "error" ? errors : warnings).push({
      file,
      ...locate(path),
      path: dottedPath(path),
      message,
      severity: severity as "error" | "warning",
    });

  const modules = manifest.module ?? [];
  const commands = manifest.command ?? [];
  checkUnique(modules.map((m) => m.name), "module", note);
  checkUnique(commands.map((c) => c.name), "command", note);

  // Pick the command: the entrypoint, the only command, or (with a warning) the only module.
  let commandIndex = -1;
  const entrypoint = manifest.package?.entrypoint;
  if (entrypoint !== undefined) {
    commandIndex = commands.findIndex((c) => c.name === entrypoint);
    if (commandIndex < 0) {
      const names = commands.map((c) => `"${c.name}"`).join(", ") || "none";
      note(
        ["package", "entrypoint"],
        `names no [[command]] (commands: ${names}); fix the name or add the command`,
      );
    }
  } else if (commands.length === 1) commandIndex = 0;
  else if (commands.length > 1) {
    note(
      ["command"],
      `has ${commands.length} entries; set [package] entrypoint to the one the app runs`,
    );
  }

  let moduleName: string | undefined;
  let runnerUri = "wasi";
  let commandName = "";
  let annotations: Record<string, unknown> = {};
  const commandPath = ["command", commandIndex];
  if (commandIndex >= 0) {
    const command = commands[commandIndex];
    commandName = command.name;
    moduleName = command.module;
    annotations = command.annotations ?? {};
    if (command.module.includes(":")) {
      note(
        [...commandPath, "module"],
        `refers to a module of dependency "${command.module.split(":")[0]}"; ` +
          "Thaw has no registry access: copy the .wasm into the package and add a [[module]]",
      );
      moduleName = undefined;
    }
    if (command.runner !== undefined) runnerUri = command.runner;
  } else if (commands.length === 0 && entrypoint === undefined) {
    if (modules.length === 1) {
      moduleName = modules[0].name;
      commandName = modules[0].name;
      note(
        ["module", 0],
        'is used as the app with the "wasi" runner because wasmer.toml has no [[command]]',
        "warning",
      );
    } else {
      note(
        [],
        modules.length === 0
          ? 'has no [[module]]; add one with name, source = "app.wasm" and abi = "wasi"'
          : 'has no [[command]]; add one with name, module and runner = "wasi" or "wcgi"',
      );
    }
  }

  const runner = RUNNER_ALIASES[runnerUri];
  if (runner === undefined && commandIndex >= 0) {
    const known = Object.keys(RUNNER_ALIASES).map((r) => `"${r}"`).join(", ");
    note(
      [...commandPath, "runner"],
      UNSUPPORTED_RUNNERS.has(runnerUri)
        ? `"${runnerUri}" is not supported by Thaw; build the app for WASI and use "wasi"`
        : `"${runnerUri}" is not a runner Thaw knows; use one of ${known}`,
    );
  }

  // Every module file must exist (as Wasmer's packager demands); only the app's needs a usable ABI.
  const moduleProblems = await Promise.all(
    modules.map((m) => checkWasmFile(resolve(dir, m.source))),
  );
  moduleProblems.forEach((problem, i) => {
    if (problem !== undefined) note(["module", i, "source"], problem);
  });
  let wasmPath = "";
  if (moduleName !== undefined) {
    const index = modules.findIndex((m) => m.name === moduleName);
    if (index < 0) {
      note(
        [...commandPath, "module"],
        `names module "${moduleName}", which no [[module]] defines; add [[module]] name = "${moduleName}"`,
      );
    } else {
      const mod = modules[index];
      if (mod.abi === "emscripten" || mod.abi === "wasm4") {
        note(["module", index, "abi"], `"${mod.abi}" is not supported by Thaw; use "wasi"`);
      }
      wasmPath = resolve(dir, mod.source);
    }
  }

  const mounts: Mount[] = [];
  for (const [guest, host] of Object.entries(manifest.fs ?? {})) {
    const hostPath = resolve(dir, host);
    const guestPath = normalize(isAbsolute(guest) ? guest : join("/", guest));
    try {
      const info = await Deno.stat(hostPath);
      if (!info.isDirectory) note(["fs", guest], `maps to "${host}", which is not a directory`);
      else if (!isInside(await Deno.realPath(hostPath), await Deno.realPath(dir))) {
        // A package must not expose host files beyond itself (e.g. "/" or "../..").
        note(
          ["fs", guest],
          `maps to "${host}", outside the package directory ${dir}; ` +
            "mount only directories inside the package",
        );
      }
    } catch {
      note(["fs", guest], `maps to "${host}", which does not exist (looked for ${hostPath})`);
    }
    mounts.push({ guest: guestPath, host: hostPath });
  }

  const wasi = WasiAnnotations.safeParse(annotations.wasi ?? {}, { reportInput: true });
  const wcgi = WcgiAnnotations.safeParse(annotations.wcgi ?? {}, { reportInput: true });
  for (const [key, result] of [["wasi", wasi], ["wcgi", wcgi]] as const) {
    if (result.success) continue;
    const base = [...commandPath, "annotations", key];
    const converted = convertIssues(
      result.error.issues,
      file,
      (p) => locate([...base, ...p]),
    );
    for (const issue of converted.errors) {
      errors.push({ ...issue, path: dottedPath(base) + (issue.path ? `.${issue.path}` : "") });
    }
  }

  if (errors.length > 0) throw new ConfigError(sortIssues(errors), sortIssues(warnings));
  // Wasmer's old command form carries arguments as one string.
  const v1 = commandIndex >= 0 ? commands[commandIndex].main_args : undefined;
  const mainArgsV1 = v1 === undefined ? [] : v1.split(/\s+/).filter((a) => a !== "");
  const wasiData = wasi.success ? wasi.data : {};
  const env: Record<string, string> = {};
  for (const pair of wasiData.env ?? []) {
    const at = pair.indexOf("=");
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return {
    wasmPath,
    runner: runner ?? "proxy",
    runnerUri,
    command: commandName,
    packageDir: dir,
    mounts,
    annotations,
    args: wasiData["main-args"] ?? mainArgsV1,
    env,
    ...(wasiData.cwd !== undefined ? { cwd: wasiData.cwd } : {}),
    ...(wcgi.success && wcgi.data.dialect ? { wcgiDialect: wcgi.data.dialect } : {}),
    warnings: sortIssues(warnings),
  };
}

/** Returns why a path is not a WebAssembly module file, or undefined when it is one. */
export async function checkWasmFile(path: string): Promise<string | undefined> {
  let file: Deno.FsFile | undefined;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) return `names ${path}, which is not a file`;
    file = await Deno.open(path);
    const head = new Uint8Array(8);
    const n = await file.read(head);
    const magic = n !== null && n >= 8 && head[0] === 0 && head[1] === 0x61 && head[2] === 0x73 &&
      head[3] === 0x6d;
    if (!magic) return `names ${path}, which is not a WebAssembly module (no \\0asm header)`;
    if (head[4] !== 1 || head[5] !== 0) {
      return `names ${path}, a WebAssembly component or unknown version; Thaw runs core modules`;
    }
    return undefined;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return `names ${path}, which does not exist; build it first (examples/build.sh)`;
    }
    return `names ${path}, which cannot be read: ${(e as Error).message}`;
  } finally {
    file?.close();
  }
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** smol-toml builds null-prototype objects; callers get plain ones. */
function toPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
  return out;
}

function checkUnique(
  names: readonly string[],
  table: "module" | "command",
  note: (path: readonly PropertyKey[], message: string) => void,
): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) note([table, i, "name"], `repeats "${name}"; names must be unique`);
    seen.add(name);
  });
}

/**
 * Maps dotted paths (`command[1].runner`, `fs["/public"]`) to the line and column where they are
 * written. smol-toml gives no positions for values, so this scans table headers and keys; keys
 * inside multi-line strings or inline tables fall back to their table's header.
 */
function scanTomlPositions(source: string): Map<string, Position> {
  const positions = new Map<string, Position>();
  const arrayCounts = new Map<string, number>();
  let table: PropertyKey[] = [];
  let inMultiline = false;
  source.split(/\r?\n/).forEach((text, i) => {
    const line = i + 1;
    const quotes = (text.match(/"""|'''/g) ?? []).length;
    if (inMultiline) {
      if (quotes % 2 === 1) inMultiline = false;
      return;
    }
    const header = /^(\s*)(\[\[?)\s*([^\]]+?)\s*\]\]?/.exec(text);
    if (header !== null) {
      const keys = splitKey(header[3]);
      const isArray = header[2] === "[[";
      table = [];
      keys.forEach((k, n) => {
        table.push(k);
        const name = keys.slice(0, n + 1).join(".");
        if (isArray && n === keys.length - 1) {
          const count = (arrayCounts.get(name) ?? 0) + 1;
          arrayCounts.set(name, count);
          if (count === 1) positions.set(dottedPath(table), { line, column: header[1].length + 1 });
          table.push(count - 1);
        } else if (arrayCounts.has(name)) table.push(arrayCounts.get(name)! - 1);
      });
      positions.set(dottedPath(table), { line, column: header[1].length + 1 });
      return;
    }
    const kv = /^(\s*)((?:"[^"]*"|'[^']*'|[A-Za-z0-9_.\s-])+?)\s*=/.exec(text);
    if (kv !== null) {
      const path = [...table, ...splitKey(kv[2])];
      const key = dottedPath(path);
      if (!positions.has(key)) positions.set(key, { line, column: kv[1].length + 1 });
      if (quotes % 2 === 1) inMultiline = true;
    }
  });
  return positions;
}

function splitKey(text: string): string[] {
  const out: string[] = [];
  const re = /\s*("([^"]*)"|'([^']*)'|[A-Za-z0-9_-]+)\s*(\.|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    out.push(m[2] ?? m[3] ?? m[1]);
    if (m[4] === "") break;
  }
  return out;
}
