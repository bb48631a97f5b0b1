/**
 * Turns zod issues into {@linkcode ConfigIssue}s with positions and messages that say how to fix
 * the value. Shared by app.yaml and wasmer.toml; each supplies its own way to locate a path.
 *
 * @module
 */

import type { z } from "zod";
import { type ConfigIssue, dottedPath } from "./errors.ts";

/** A position in a source file (1-based; 0 when unknown). */
export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/** Locates a path in the source; `key` asks for the key of the last segment, not its value. */
export type Locate = (path: readonly PropertyKey[], key: boolean) => Position;

/** Suggests a known key close to an unknown one, or undefined. */
export type Suggest = (path: readonly PropertyKey[], key: string) => string | undefined;

interface RawIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly input?: unknown;
  readonly expected?: string;
  readonly values?: readonly unknown[];
  readonly keys?: readonly string[];
  readonly errors?: readonly (readonly RawIssue[])[];
  readonly issues?: readonly RawIssue[];
  readonly origin?: string;
  readonly minimum?: number | bigint;
  readonly maximum?: number | bigint;
}

/** What {@linkcode convertIssues} found: errors, warnings and the unknown keys to drop. */
export interface Converted {
  readonly errors: ConfigIssue[];
  readonly warnings: ConfigIssue[];
  /** Each unknown key, as the path of the object holding it plus the key. */
  readonly unknownKeys: { path: readonly PropertyKey[]; key: string }[];
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
};

/** Describes a value for a message: `"abc"`, `42`, `a list`, `empty`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    const text = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return JSON.stringify(text);
  }
  return String(value);
}

function isDefaultMessage(message: string): boolean {
  return /^(Invalid|Too (small|big)|Unrecognized)/.test(message);
}

function messageOf(issue: RawIssue): string {
  const got = describeValue(issue.input);
  if (issue.code === "custom") return issue.message;
  const missing = issue.input === undefined &&
    ["invalid_type", "invalid_value", "invalid_union"].includes(issue.code);
  if (missing) return "is required";
  if (!isDefaultMessage(issue.message)) {
    const showInput = (issue.code === "invalid_format" || issue.code === "invalid_value") &&
      !issue.message.includes("(got ") && issue.input !== undefined &&
      !issue.message.includes(JSON.stringify(issue.input));
    return showInput ? `${issue.message} (got ${got})` : issue.message;
  }
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return `must be ${EXPECTED[issue.expected ?? ""] ?? issue.expected} (got ${got})`;
    case "invalid_value": {
      const values = issue.values ?? [];
      if (values.length === 1) return `must be ${JSON.stringify(values[0])} (got ${got})`;
      return `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")} (got ${got})`;
    }
    case "invalid_format":
      return `has the wrong format (got ${got})`;
    case "too_small":
      if (issue.origin === "string") return "must not be empty";
      if (issue.origin === "array") return `must have at least ${issue.minimum} item(s)`;
      return `must be at least ${issue.minimum} (got ${got})`;
    case "too_big":
      if (issue.origin === "array") return `must have at most ${issue.maximum} item(s)`;
      if (issue.origin === "string") return `must be at most ${issue.maximum} characters long`;
      return `must be at most ${issue.maximum} (got ${got})`;
    case "invalid_key":
      return `has an invalid key: ${
        (issue.issues ?? []).map((i) => messageOf(i)).join("; ") || issue.message
      }`;
    default:
      return issue.message;
  }
}

/**
 * Picks the union branch the user most likely meant: one whose top value had the right type,
 * with the fewest issues. Returns undefined when no branch even had the right type.
 */
function bestBranch(issue: RawIssue): readonly RawIssue[] | undefined {
  let best: readonly RawIssue[] | undefined;
  for (const branch of issue.errors ?? []) {
    if (branch.some((i) => wrongTypeAtRoot(i) !== undefined)) continue;
    if (best === undefined || branch.length < best.length) best = branch;
  }
  return best;
}

/** What a root-level issue expected, when it failed because the value had the wrong type. */
function wrongTypeAtRoot(issue: RawIssue): string | undefined {
  if (issue.path.length !== 0) return undefined;
  if (issue.code === "invalid_type") return EXPECTED[issue.expected ?? ""] ?? issue.expected;
  if (issue.code === "invalid_value" && issue.values && issue.values.length > 0) {
    const type = typeof issue.values[0];
    if (issue.input !== undefined && typeof issue.input !== type) return EXPECTED[type] ?? type;
  }
  return undefined;
}

function flatten(issues: readonly RawIssue[], prefix: readonly PropertyKey[]): RawIssue[] {
  const out: RawIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union") {
      const branch = bestBranch(issue);
      if (branch !== undefined) {
        out.push(...flatten(branch, path));
        continue;
      }
      const expected = new Set<string>();
      for (const b of issue.errors ?? []) {
        for (const i of b) {
          const wanted = wrongTypeAtRoot(i);
          if (wanted !== undefined) expected.add(wanted);
        }
      }
      const message = issue.input === undefined
        ? "is required"
        : `must be ${[...expected].join(" or ") || "a different value"} (got ${
          describeValue(issue.input)
        })`;
      out.push({ ...issue, path, code: "custom", message });
      continue;
    }
    out.push({ ...issue, path });
  }
  return out;
}

/**
 * Converts zod issues (parsed with `reportInput: true`) to located errors and warnings. Unknown
 * keys become warnings, with a "did you mean" when a known key is close.
 */
export function convertIssues(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  locate: Locate,
  suggest?: Suggest,
): Converted {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const unknownKeys: { path: readonly PropertyKey[]; key: string }[] = [];
  for (const issue of flatten(issues as unknown as RawIssue[], [])) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys ?? []) {
        const path = [...issue.path, key];
        const near = suggest?.(issue.path, key);
        const hint = near === undefined
          ? "Thaw does not know it; check its spelling"
          : `did you mean "${near}"?`;
        warnings.push({
          file,
          ...locate(path, true),
          path: dottedPath(path),
          message: `is an unknown key and is ignored (${hint})`,
          severity: "warning",
        });
        unknownKeys.push({ path: issue.path, key });
      }
      continue;
    }
    errors.push({
      file,
      ...locate(issue.path, false),
      path: dottedPath(issue.path),
      message: messageOf(issue),
      severity: "error",
    });
  }
  return { errors, warnings, unknownKeys };
}

/** Returns a deep copy of `data` without the given unknown keys. */
export function withoutKeys(
  data: unknown,
  keys: readonly { path: readonly PropertyKey[]; key: string }[],
): unknown {
  const copy = structuredClone(data);
  for (const { path, key } of keys) {
    let cur: unknown = copy;
    for (const seg of path) {
      if (cur === null || typeof cur !== "object") break;
      cur = (cur as Record<PropertyKey, unknown>)[seg];
    }
    if (cur !== null && typeof cur === "object") delete (cur as Record<string, unknown>)[key];
  }
  return copy;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** The closest candidate within a small edit distance, or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
