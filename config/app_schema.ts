/**
 * The zod schema of app.yaml: Wasmer's App.v0 (as `wasmer_config::app::AppConfigV1` reads it)
 * plus Thaw's reading of `capabilities.instaboot` and the Thaw-only top-level `runner`.
 *
 * Objects are strict so that unknown keys surface as issues; the parser reports them as warnings,
 * because Wasmer keeps unknown keys for forward compatibility instead of rejecting them.
 *
 * @module
 */

import { z } from "zod";
import { BYTE_SIZE_PATTERN, parseByteSize } from "./byte_size.ts";
import { DURATION_PATTERN } from "./duration.ts";

/** The only `kind` Wasmer and Thaw accept. */
export const APP_KIND = "wasmer.io/App.v0";

/** Wasmer's app name rule. */
export const APP_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Instaboot triggers Thaw implements (Wasmer's names, see `SnapshotTrigger`). */
export const INSTABOOT_TRIGGERS = ["first-listen", "first-stdin", "explicit"] as const;

/** Every snapshot trigger name Wasmer knows, so that the error can say "not supported". */
export const WASMER_TRIGGERS: readonly string[] = [
  "bootstrap",
  "explicit",
  "first-environ",
  "first-listen",
  "first-sigint",
  "first-stdin",
  "idle",
  "non-deterministic-call",
  "periodic-interval",
  "sigalrm",
  "sigint",
  "sigtstp",
  "sigstop",
  "transaction",
];

/** Instaboot modes: Wasmer's `bootstrap` plus each supported trigger as a shorthand. */
export const INSTABOOT_MODES = ["bootstrap", ...INSTABOOT_TRIGGERS] as const;

/** Runner kinds a Thaw app can use (the top-level `runner` extension). */
export const RUNNER_KINDS = ["proxy", "wcgi", "rack", "command"] as const;

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HOST_RE =
  /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

const durationString = z.string().regex(new RegExp(DURATION_PATTERN), {
  error: 'must be a duration like "30s", "5m", "2h" or "1d" (a whole number and s, m, h or d)',
});

function triggerError(input: unknown): string {
  const list = INSTABOOT_TRIGGERS.map((t) => `"${t}"`).join(", ");
  if (typeof input === "string" && WASMER_TRIGGERS.includes(input)) {
    return `"${input}" is a Wasmer trigger that Thaw does not support; use one of ${list}`;
  }
  return `must be one of ${list} (got ${JSON.stringify(input)})`;
}

function modeError(input: unknown): string {
  const list = INSTABOOT_MODES.map((t) => `"${t}"`).join(", ");
  if (typeof input === "string" && WASMER_TRIGGERS.includes(input)) {
    return `"${input}" is a Wasmer trigger that Thaw does not support; use one of ${list}`;
  }
  return `must be one of ${list} (got ${JSON.stringify(input)})`;
}

/** A request header in Wasmer's list form. */
export const HttpHeaderSchema = z.strictObject({
  name: z.string().regex(TOKEN_RE, { error: "must be a valid HTTP header name" }),
  value: z.string(),
});

/** The fields of an HTTP request (shared by instaboot requests and health checks). */
export const requestFields = {
  path: z.string().regex(/^\//, { error: 'must start with "/"' }).meta({
    description: "Request path and query, starting with /",
  }),
  method: z.string().regex(TOKEN_RE, { error: 'must be an HTTP method like "GET" or "POST"' })
    .optional().meta({ description: "HTTP method; defaults to GET" }),
  headers: z.union([
    z.array(HttpHeaderSchema),
    z.record(z.string().regex(TOKEN_RE), z.string()),
  ]).optional().meta({
    description: "Headers, as a list of {name, value} (Wasmer) or a name: value mapping",
  }),
  body: z.string().optional().meta({ description: "Request body as text" }),
  timeout: durationString.optional().meta({ description: "Request timeout, e.g. 30s" }),
  expect: z.strictObject({
    status_codes: z.array(
      z.int().min(100, { error: "must be an HTTP status code (100-599)" })
        .max(599, { error: "must be an HTTP status code (100-599)" }),
    ).optional().meta({ description: "Accepted response status codes" }),
    body_includes: z.string().optional().meta({ description: "Text the body must contain" }),
    body_regex: z.string().superRefine((source, ctx) => {
      try {
        new RegExp(source);
      } catch (e) {
        ctx.addIssue({
          code: "custom",
          message: `must be a valid regular expression (${(e as Error).message})`,
        });
      }
    }).optional().meta({ description: "Regular expression the body must match" }),
  }).optional().meta({ description: "Checks on the response; a failed check fails the deploy" }),
};

/** One HTTP request, as in Wasmer's `HttpRequest`. */
export const HttpRequestSchema = z.strictObject(requestFields);

const sizeSchema = z.union([
  z.string().regex(new RegExp(BYTE_SIZE_PATTERN), {
    error: 'must be a size like "256MB", "512 MiB" or "1 GiB"',
  }).refine((s) => !new RegExp(BYTE_SIZE_PATTERN).test(s) || parseByteSize(s) !== undefined, {
    error: "is too large",
  }),
  z.int().nonnegative(),
]);

const instabootSchema = z.strictObject({
  mode: z.union([
    z.enum(INSTABOOT_MODES, { error: (iss) => modeError(iss.input) }),
    z.strictObject({
      triggers: z.array(z.enum(INSTABOOT_TRIGGERS, { error: (iss) => triggerError(iss.input) }))
        .min(1, { error: "must name at least one trigger" }),
    }),
  ]).optional().meta({
    description:
      "When the snapshot is taken: bootstrap (after the warm-up requests, default), first-listen, first-stdin, explicit, or Wasmer's {triggers: [...]}",
  }),
  requests: z.array(HttpRequestSchema).optional().meta({
    description: "Warm-up requests sent before the snapshot; defaults to GET /",
  }),
  max_age: durationString.optional().meta({
    description: "Maximum age of a snapshot before it is rebuilt, e.g. 1d",
  }),
});

/** The app.yaml schema (input side), validated by {@linkcode parseAppYaml}. */
export const AppYamlSchema = z.strictObject({
  kind: z.literal(APP_KIND, { error: `must be "${APP_KIND}"` }).meta({
    description: "Always wasmer.io/App.v0",
  }),
  name: z.string().regex(APP_NAME_RE, {
    error: 'must be lowercase letters, digits and "-", not starting or ending with "-"',
  }).meta({ description: "App name: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
  description: z.string().optional(),
  owner: z.string().optional().meta({ description: "Wasmer user or namespace (informational)" }),
  app_id: z.string().optional().meta({ description: "Set by Wasmer's backend (informational)" }),
  package: z.string().min(1, { error: "must not be empty" }).meta({
    description: 'Path to a .wasm file, or to a directory with a wasmer.toml ("." for this one)',
  }),
  runner: z.enum(RUNNER_KINDS).optional().meta({
    description: "Thaw extension: runner for a bare .wasm package (proxy, wcgi, rack or command)",
  }),
  domains: z.array(
    z.string().regex(HOST_RE, { error: 'must be a lowercase host name like "app.example.com"' }),
  ).optional().meta({ description: "Host names routed to this app" }),
  locality: z.strictObject({ regions: z.array(z.string()) }).optional(),
  env: z.record(
    z.string().regex(/^[^=\0]+$/, { error: 'must not be empty or contain "="' }),
    z.string({
      error: (iss) =>
        iss.input === undefined || iss.input === null
          ? 'must be a string (write an empty value as "")'
          : `must be a string; quote the value: "${String(iss.input)}"`,
    }),
  ).optional().meta({ description: "Environment variables" }),
  enable_email: z.boolean().optional(),
  cli_args: z.array(z.string()).optional().meta({ description: "Arguments passed to the program" }),
  capabilities: z.strictObject({
    memory: z.strictObject({
      limit: sizeSchema.optional().meta({ description: 'Memory limit, e.g. "256MB" or "1 GiB"' }),
    }).optional(),
    runtime: z.strictObject({
      engine: z.string().optional(),
      async_threads: z.boolean().optional(),
    }).optional(),
    instaboot: instabootSchema.optional().meta({
      description: "Instant cold starts: snapshot the warmed-up app and restore it per instance",
    }),
    database: z.strictObject({ engine: z.enum(["mysql"]) }).optional(),
  }).optional(),
  scheduled_tasks: z.array(z.unknown()).optional(),
  volumes: z.array(z.strictObject({
    name: z.string().min(1, { error: "must not be empty" }),
    mount: z.string().regex(/^\//, { error: 'must be an absolute guest path starting with "/"' }),
  })).optional(),
  health_checks: z.array(z.strictObject({
    http: z.strictObject({
      ...requestFields,
      interval: durationString.optional(),
      unhealthy_threshold: z.int().min(1).optional(),
      healthy_threshold: z.int().min(1).optional(),
    }),
  })).optional(),
  debug: z.boolean().optional(),
  vault: z.string().optional(),
  scaling: z.strictObject({
    mode: z.enum(["single_concurrency"]).optional().meta({
      description: "single_concurrency: one request at a time per instance",
    }),
  }).optional(),
  redirect: z.strictObject({ force_https: z.boolean().optional() }).optional(),
  jobs: z.array(z.unknown()).optional(),
}).meta({
  title: "Thaw app.yaml (wasmer.io/App.v0)",
  description: "Wasmer App.v0 configuration, as Thaw reads it",
});

/** The validated app.yaml, as plain data. */
export type AppYaml = z.output<typeof AppYamlSchema>;
/** One validated HTTP request (instaboot warm-up or health check). */
export type AppHttpRequest = z.output<typeof HttpRequestSchema>;

/**
 * The JSON Schema editors use for app.yaml, generated from {@linkcode AppYamlSchema}. Unknown keys
 * are allowed, as Wasmer allows them.
 *
 * @example
 * ```ts
 * import { appJsonSchema } from "./app_schema.ts";
 * const schema = appJsonSchema();
 * // schema.properties.kind.const === "wasmer.io/App.v0"
 * ```
 */
export function appJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(AppYamlSchema, { io: "input", target: "draft-7" });
  return { ...allowExtraKeys(schema) as Record<string, unknown> };
}

function allowExtraKeys(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(allowExtraKeys);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "additionalProperties" && v === false) continue;
    out[k] = allowExtraKeys(v);
  }
  return out;
}
