/** Keeps journal/FORMAT.md true: its examples decode as it says, and its tables match the codec. */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import {
  CODEC_IDS,
  encodeJournal,
  FD_KINDS,
  type JournalRecord,
  KNOWN_KINDS,
  readJournal,
  RECORD_SCHEMAS,
  RECORD_TAGS,
} from "../../journal/mod.ts";

const DOC = await Deno.readTextFile(new URL("../../journal/FORMAT.md", import.meta.url));

function parseHex(block: string): Uint8Array {
  const out: number[] = [];
  for (const line of block.split("\n")) {
    for (const tok of line.split("#")[0].trim().split(/\s+/)) {
      if (tok === "") continue;
      ok(/^[0-9a-f]{2}$/.test(tok), `bad hex token "${tok}"`);
      out.push(parseInt(tok, 16));
    }
  }
  return new Uint8Array(out);
}

function revive(_key: string, v: unknown): unknown {
  if (v !== null && typeof v === "object" && "$u64" in v) {
    return BigInt((v as { $u64: string }).$u64);
  }
  if (v !== null && typeof v === "object" && "$bytes" in v) {
    const hex = (v as { $bytes: string }).$bytes;
    return new Uint8Array(hex.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
  }
  return v;
}

const EXAMPLES = [
  ...DOC.matchAll(/<!-- example: ([\w-]+) -->\s*```text\n([\s\S]*?)```\s*```json\n([\s\S]*?)```/g),
];

Deno.test("FORMAT.md has its three examples", () => {
  deepStrictEqual(EXAMPLES.map((m) => m[1]), ["minimal", "memory", "unknown-and-pending"]);
});

for (const [, name, hex, json] of EXAMPLES) {
  Deno.test(`FORMAT.md example "${name}" decodes to the records it lists, and back`, () => {
    const bytes = parseHex(hex);
    const expected = JSON.parse(json, revive) as { committed: number; records: JournalRecord[] };
    const read = readJournal(bytes);
    deepStrictEqual(read.records, expected.records);
    strictEqual(read.committed.length, expected.committed);
    deepStrictEqual(encodeJournal(expected.records), bytes);
  });
}

Deno.test("FORMAT.md's kinds table matches the tags and schemas of the codec", () => {
  const table = DOC.split("<!-- kinds-table-start -->")[1].split("<!-- kinds-table-end -->")[0];
  const rows = table.split("\n").filter((l) => /^\|\s*0x/.test(l)).map((l) =>
    l.split("|").slice(1, -1).map((c) => c.trim())
  );
  deepStrictEqual(rows.map((r) => r[1].replaceAll("`", "")), [...KNOWN_KINDS]);
  for (const [tag, kindCell, version, fields] of rows) {
    const kind = kindCell.replaceAll("`", "") as typeof KNOWN_KINDS[number];
    strictEqual(parseInt(tag, 16), RECORD_TAGS[kind], kind);
    strictEqual(Number(version), RECORD_SCHEMAS[kind].version, kind);
    strictEqual(fields, RECORD_SCHEMAS[kind].fields.map(([n, t]) => `${n}: ${t}`).join(", "), kind);
  }
});

Deno.test("FORMAT.md's codec and fd kind numbering matches the codec", () => {
  for (const [name, id] of Object.entries(CODEC_IDS)) ok(DOC.includes(`${id} \`${name}\``), name);
  const line = DOC.split("\n").find((l) => l.includes("| `fdkind`"))!;
  FD_KINDS.forEach((k, i) => ok(line.includes(`${i} ${k}`), k));
});
