import assert from "node:assert/strict";
import { parse } from "yaml";
import { APP_KIND, appJsonSchema, AppYamlSchema } from "../../config/mod.ts";
import { SCHEMA_PATH, schemaText } from "../../config/gen_schema.ts";

Deno.test("config/app.schema.json is in sync with the zod schema", async () => {
  const committed = await Deno.readTextFile(SCHEMA_PATH);
  assert.equal(
    committed,
    schemaText(),
    "config/app.schema.json is stale; run: deno run -A config/gen_schema.ts",
  );
});

Deno.test("appJsonSchema() describes App.v0 and allows unknown keys", () => {
  const schema = appJsonSchema() as {
    properties: Record<string, { const?: string }>;
    required: string[];
  };
  assert.equal(schema.properties.kind.const, APP_KIND);
  assert.deepEqual([...schema.required].sort(), ["kind", "name", "package"]);
  assert.equal(JSON.stringify(schema).includes('"additionalProperties":false'), false);
  for (const key of ["capabilities", "health_checks", "scaling", "domains", "env", "cli_args"]) {
    assert.ok(key in schema.properties, key);
  }
});

Deno.test("the example apps satisfy the zod schema", async () => {
  for (const dir of ["wcgi-hello", "preview1-server"]) {
    const text = await Deno.readTextFile(
      new URL(`../../examples/${dir}/app.yaml`, import.meta.url),
    );
    const result = AppYamlSchema.safeParse(parse(text));
    assert.ok(result.success, `${dir}: ${result.error?.message}`);
    assert.match(text, /yaml-language-server: \$schema=\.\.\/\.\.\/config\/app\.schema\.json/);
  }
});
