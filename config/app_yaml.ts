/**
 * Parses and validates app.yaml text, keeping source positions so that every problem is reported
 * at its file:line:column.
 *
 * @module
 */

import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { appJsonSchema, type AppYaml, AppYamlSchema } from "./app_schema.ts";
import { closest, convertIssues, type Position, withoutKeys } from "./_issues.ts";
import { ConfigError, type ConfigIssue, dottedPath, sortIssues } from "./errors.ts";

/** Options for {@linkcode parseAppYaml}. */
export interface ParseAppYamlOptions {
  /** The file name used in issues. @default {"app.yaml"} */
  readonly file?: string;
}

/** A valid app.yaml and the warnings found in it. */
export interface ParsedAppYaml {
  /** The validated app.yaml. */
  readonly config: AppYaml;
  /** Unknown keys and ignored features. */
  readonly warnings: readonly ConfigIssue[];
  /** Locates a dotted path's segments in the source, for checks made later (e.g. the package). */
  readonly locate: (path: readonly PropertyKey[]) => Position;
}

/** Wasmer fields Thaw reads but does not act on; using them gets a warning. */
const IGNORED: ReadonlyArray<readonly [readonly string[], string]> = [
  [["scheduled_tasks"], "scheduled tasks are not supported by Thaw and are ignored"],
  [["jobs"], "jobs are not supported by Thaw and are ignored"],
  [["vault"], "vaults are not supported by Thaw and are ignored; put secrets in env"],
  [["enable_email"], "app e-mail is not supported by Thaw and is ignored"],
  [["capabilities", "database"], "databases are not provided by Thaw; this is ignored"],
  [["capabilities", "runtime", "engine"], "Thaw always runs on V8; the engine is ignored"],
];

/** Everything {@linkcode analyzeAppYaml} found; `config` is set when there are no errors. */
export interface AppYamlAnalysis {
  readonly config?: AppYaml;
  /** The YAML as plain data (undefined when it does not parse). */
  readonly data: unknown;
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
  readonly locate: (path: readonly PropertyKey[]) => Position;
}

/**
 * Parses app.yaml text and validates it against Wasmer's App.v0 and Thaw's instaboot settings.
 *
 * @throws {ConfigError} listing every error (YAML syntax, then schema), each with its position.
 * @example
 * ```ts
 * import { parseAppYaml } from "./app_yaml.ts";
 * const { config } = parseAppYaml("kind: wasmer.io/App.v0\nname: hello\npackage: app.wasm\n");
 * // config.name === "hello"
 * ```
 */
export function parseAppYaml(source: string, options: ParseAppYamlOptions = {}): ParsedAppYaml {
  const result = analyzeAppYaml(source, options);
  if (result.config === undefined) throw new ConfigError(result.errors, result.warnings);
  return { config: result.config, warnings: result.warnings, locate: result.locate };
}

/**
 * Like {@linkcode parseAppYaml}, but returns the errors instead of throwing them, together with
 * the raw data, so that a caller can go on checking what the errors did not affect.
 *
 * @example
 * ```ts
 * import { analyzeAppYaml } from "./app_yaml.ts";
 * const { errors, data } = analyzeAppYaml("kind: wasmer.io/App.v0\nname: Bad\npackage: a.wasm\n");
 * // errors.length === 1; (data as { package: string }).package === "a.wasm"
 * ```
 */
export function analyzeAppYaml(
  source: string,
  options: ParseAppYamlOptions = {},
): AppYamlAnalysis {
  const file = options.file ?? "app.yaml";
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const yamlIssue = (
    e: { message: string; pos: [number, number] },
    severity: "error" | "warning",
  ): ConfigIssue => ({
    file,
    ...at(e.pos[0]),
    path: "",
    message: e.message.split("\n")[0],
    severity,
  });
  const warnings: ConfigIssue[] = doc.warnings.map((w) => yamlIssue(w, "warning"));
  const fallback = (): Position => ({ line: 1, column: 1 });
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => yamlIssue(e, "error"));
    return { data: undefined, errors, warnings, locate: fallback };
  }

  const locate = (path: readonly PropertyKey[], key = false): Position => {
    const found = findNode(doc.contents, path);
    const node = key ? (found.key ?? found.node) : (found.node ?? found.key);
    const range = node?.range;
    return range ? at(range[0]) : { line: 1, column: 1 };
  };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    const errors: ConfigIssue[] = [{
      file,
      line: 1,
      column: 1,
      path: "",
      message: `cannot be read: ${(e as Error).message}`,
      severity: "error",
    }];
    return { data: undefined, errors, warnings, locate: fallback };
  }
  if (data === null || data === undefined) {
    const errors: ConfigIssue[] = [{
      file,
      line: 1,
      column: 1,
      path: "",
      message: "is empty; start it with `kind: wasmer.io/App.v0`, `name:` and `package:`",
      severity: "error",
    }];
    return { data, errors, warnings, locate };
  }
  if (typeof data !== "object" || Array.isArray(data)) {
    const errors: ConfigIssue[] = [{
      file,
      ...locate([]),
      path: "",
      message: "must be a mapping of keys such as `kind:`, `name:` and `package:`",
      severity: "error",
    }];
    return { data, errors, warnings, locate };
  }

  const first = AppYamlSchema.safeParse(data, { reportInput: true });
  const converted = first.success
    ? { errors: [], warnings: [], unknownKeys: [] }
    : convertIssues(first.error.issues, file, locate, suggestKey);
  warnings.push(...converted.warnings);
  const errors: ConfigIssue[] = converted.errors.map(withRequiredHint);
  const note = (path: readonly PropertyKey[], message: string, severity: "error" | "warning") =>
    (severity === "error" ? errors : warnings).push({
      file,
      ...locate(path),
      path: dottedPath(path),
      message,
      severity,
    });
  semanticChecks(data as Record<string, unknown>, note);

  if (errors.length > 0) {
    return { data, errors: sortIssues(errors), warnings: sortIssues(warnings), locate };
  }
  const second = first.success
    ? first
    : AppYamlSchema.safeParse(withoutKeys(data, converted.unknownKeys));
  if (!second.success) {
    // The first pass reported everything but unknown keys; reaching here is a bug in this module.
    throw new Error(`app.yaml validation is inconsistent: ${second.error.message}`);
  }
  return { config: second.data, data, errors: [], warnings: sortIssues(warnings), locate };
}

const REQUIRED_HINTS: Readonly<Record<string, string>> = {
  kind: "add `kind: wasmer.io/App.v0`",
  name: 'add `name: my-app` (lowercase letters, digits and "-")',
  package: "add `package: app.wasm` or `package: .` (a directory with a wasmer.toml)",
  path: "add `path: /`",
};

function withRequiredHint(issue: ConfigIssue): ConfigIssue {
  const last = issue.path.split(/[.[]/).pop() ?? "";
  const hint = REQUIRED_HINTS[last];
  return issue.message === "is required" && hint !== undefined
    ? { ...issue, message: `is required; ${hint}` }
    : issue;
}

type Note = (path: readonly PropertyKey[], message: string, severity: "error" | "warning") => void;

/** Checks that span several fields. They read the raw data, so they run even when others fail. */
function semanticChecks(data: Record<string, unknown>, note: Note): void {
  for (const [path, message] of IGNORED) {
    if (getIn(data, path) !== undefined) note(path, message, "warning");
  }
  const domains = data.domains;
  if (Array.isArray(domains)) {
    const seen = new Set<unknown>();
    domains.forEach((d, i) => {
      if (seen.has(d)) note(["domains", i], `repeats ${JSON.stringify(d)}; remove it`, "error");
      seen.add(d);
    });
  }
  const instaboot = getIn(data, ["capabilities", "instaboot"]);
  const requests = getIn(data, ["capabilities", "instaboot", "requests"]);
  if (Array.isArray(requests)) {
    requests.forEach((r, i) => checkRequest(r, ["capabilities", "instaboot", "requests", i], note));
  }
  const checks = data.health_checks;
  if (Array.isArray(checks)) {
    checks.forEach((c, i) => checkRequest(getIn(c, ["http"]), ["health_checks", i, "http"], note));
  }
  const mode = getIn(instaboot, ["mode"]);
  const triggers = typeof mode === "string" ? [mode] : getIn(mode, ["triggers"]);
  if (
    Array.isArray(triggers) && triggers.includes("first-listen") && Array.isArray(requests) &&
    requests.length > 0
  ) {
    note(
      ["capabilities", "instaboot", "requests"],
      "are not sent in first-listen mode (the snapshot is taken when the app first listens); " +
        'remove them or use mode "bootstrap"',
      "warning",
    );
  }
}

function checkRequest(request: unknown, path: readonly PropertyKey[], note: Note): void {
  const method = getIn(request, ["method"]);
  const body = getIn(request, ["body"]);
  const name = typeof method === "string" ? method.toUpperCase() : "GET";
  if (typeof body === "string" && (name === "GET" || name === "HEAD")) {
    note([...path, "body"], `cannot be sent with method ${name}; add \`method: POST\``, "error");
  }
  if (typeof method === "string" && method !== method.toUpperCase()) {
    note([...path, "method"], `should be upper case ("${method.toUpperCase()}")`, "warning");
  }
}

function getIn(value: unknown, path: readonly PropertyKey[]): unknown {
  let cur = value;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

interface Found {
  /** The value node at the path, or the deepest node found when the path is missing. */
  node: Node | null;
  /** The key node of the last map segment, when there is one. */
  key: Node | null;
}

function findNode(root: unknown, path: readonly PropertyKey[]): Found {
  let node = (root ?? null) as Node | null;
  let key: Node | null = null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) =>
        String(isScalar(p.key) ? p.key.value : p.key) === String(seg)
      );
      if (pair === undefined) return { node, key: null };
      key = (pair.key ?? null) as Node | null;
      node = (pair.value ?? null) as Node | null;
      if (node === null) return { node: key, key };
    } else if (isSeq(node) && typeof seg === "number" && node.items[seg] !== undefined) {
      node = node.items[seg] as Node;
      key = null;
    } else {
      return { node, key };
    }
  }
  return { node, key };
}

let knownKeys: Set<string> | undefined;

/** Suggests a known key for a misspelt one, from every property name in the schema. */
function suggestKey(_path: readonly PropertyKey[], key: string): string | undefined {
  if (knownKeys === undefined) {
    knownKeys = new Set();
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== "object") return;
      if (Array.isArray(node)) return node.forEach(walk);
      for (const [k, v] of Object.entries(node)) {
        if (k === "properties" && v && typeof v === "object") {
          for (const name of Object.keys(v)) knownKeys!.add(name);
        }
        walk(v);
      }
    };
    walk(appJsonSchema());
  }
  return closest(key, knownKeys);
}
