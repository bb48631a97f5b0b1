/**
 * Structured configuration problems: every problem found in app.yaml or wasmer.toml is a
 * {@linkcode ConfigIssue} with its file, line, column and dotted path, so that callers never parse
 * a message.
 *
 * @module
 */

/** How bad a problem is: errors stop the app from loading, warnings do not. */
export type IssueSeverity = "error" | "warning";

/** One problem in a configuration file. */
export interface ConfigIssue {
  /** The file as the caller named it, e.g. `examples/hello/app.yaml`. */
  readonly file: string;
  /** 1-based line, or 0 when the problem concerns the whole file. */
  readonly line: number;
  /** 1-based column, or 0 when the problem concerns the whole file. */
  readonly column: number;
  /** Dotted path of the value, e.g. `capabilities.instaboot.requests[0].path`; "" for the file. */
  readonly path: string;
  /** What is wrong and how to fix it, e.g. `must start with "/"`. */
  readonly message: string;
  /** Errors stop loading; warnings do not. */
  readonly severity: IssueSeverity;
}

/**
 * Formats an issue the way compilers do: `file:line:column: path message`.
 *
 * @example
 * ```ts
 * import { formatIssue } from "./errors.ts";
 * const text = formatIssue({
 *   file: "app.yaml", line: 7, column: 5, severity: "error",
 *   path: "capabilities.instaboot.requests[0].path", message: 'must start with "/"',
 * });
 * // text === 'app.yaml:7:5: capabilities.instaboot.requests[0].path must start with "/"'
 * ```
 */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  const level = issue.severity === "warning" ? "warning: " : "";
  const subject = issue.path === "" ? "" : `${issue.path} `;
  return `${where}: ${level}${subject}${issue.message}`;
}

/**
 * Thrown when configuration is invalid. It lists every error at once, plus the warnings found on
 * the way; its message is the formatted errors, one a line.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./errors.ts";
 * try {
 *   // await loadApp("examples/broken");
 * } catch (e) {
 *   if (e instanceof ConfigError) for (const i of e.issues) console.error(i.line, i.path);
 * }
 * ```
 */
export class ConfigError extends Error {
  /** The errors (severity "error"), in file order. */
  readonly issues: readonly ConfigIssue[];
  /** Warnings found alongside the errors. */
  readonly warnings: readonly ConfigIssue[];

  /** Creates the error from its issues (errors) and the warnings found alongside. */
  constructor(issues: readonly ConfigIssue[], warnings: readonly ConfigIssue[] = []) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
    this.warnings = warnings;
  }
}

/** Formats a path like `["a", 0, "b"]` as `a[0].b`; keys that are not identifiers are quoted. */
export function dottedPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(seg))) {
      out += out === "" ? String(seg) : `.${String(seg)}`;
    } else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** Sorts issues by file, line and column, keeping the original order for ties. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) =>
      a.issue.file.localeCompare(b.issue.file) || a.issue.line - b.issue.line ||
      a.issue.column - b.issue.column || a.i - b.i
    )
    .map((x) => x.issue);
}
