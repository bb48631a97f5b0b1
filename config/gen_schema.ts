/**
 * Writes config/app.schema.json from the zod schema. Run after changing app_schema.ts:
 * `deno run -A config/gen_schema.ts` (tests/config/app_schema_test.ts checks it is in sync).
 *
 * @module
 */

import { appJsonSchema } from "./app_schema.ts";

/** The committed schema's path. */
export const SCHEMA_PATH = new URL("./app.schema.json", import.meta.url);

/** The schema file's exact text. */
export function schemaText(): string {
  return JSON.stringify(appJsonSchema(), null, 2) + "\n";
}

if (import.meta.main) {
  await Deno.writeTextFile(SCHEMA_PATH, schemaText());
  console.log(`Wrote ${SCHEMA_PATH.pathname}`);
}
