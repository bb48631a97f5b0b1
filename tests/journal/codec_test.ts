import { deepStrictEqual, strictEqual, throws } from "node:assert";
import fc from "fast-check";
import {
  encodeJournal,
  encodeRecord,
  FRAME_OVERHEAD,
  HEADER_SIZE,
  JournalError,
  KNOWN_KINDS,
  readJournal,
  RECORD_SCHEMAS,
  RECORD_TAGS,
  RecordEncodeError,
} from "../../journal/mod.ts";
import { assertRoundTrip, journalArb, recordArb, SAMPLES } from "./_helpers.ts";

for (const kind of KNOWN_KINDS) {
  Deno.test(`encodeRecord() and decodeFrame() round-trip a ${kind} record`, () => {
    assertRoundTrip(SAMPLES[kind]);
  });
}

Deno.test("SAMPLES covers every known kind and every kind has a schema", () => {
  deepStrictEqual(Object.keys(SAMPLES).sort(), [...KNOWN_KINDS].sort());
  for (const kind of KNOWN_KINDS) strictEqual(RECORD_SCHEMAS[kind].version >= 1, true);
});

Deno.test("record tags are unique and frozen", () => {
  const tags = Object.values(RECORD_TAGS);
  strictEqual(new Set(tags).size, tags.length);
  strictEqual(Object.isFrozen(RECORD_TAGS), true);
  strictEqual(RECORD_TAGS["snapshot"], 0x0080);
  strictEqual(RECORD_TAGS["memory.run"], 0x0011);
});

Deno.test("encodeRecord() and decodeFrame() round-trip random records", () => {
  fc.assert(fc.property(recordArb, (r) => assertRoundTrip(r)), { numRuns: 2000 });
});

Deno.test("readJournal() round-trips random journals and splits at the last snapshot", () => {
  fc.assert(
    fc.property(journalArb, (records) => {
      const bytes = encodeJournal(records);
      const read = readJournal(bytes);
      deepStrictEqual(read.records, records);
      strictEqual(read.damage, null);
      const last = records.findLastIndex((r) => r.kind === "snapshot");
      deepStrictEqual(read.committed, records.slice(0, last + 1));
      deepStrictEqual(read.pending, records.slice(last + 1));
    }),
    { numRuns: 300 },
  );
});

Deno.test("encodeJournal() is deterministic and sized header plus frames", () => {
  const records = Object.values(SAMPLES);
  const a = encodeJournal(records);
  deepStrictEqual(encodeJournal(records), a);
  const frames = records.reduce((n, r) => n + encodeRecord(r).length, 0);
  strictEqual(a.length, HEADER_SIZE + frames);
  strictEqual(encodeRecord({ kind: "fd.close", fd: 1 }).length, FRAME_OVERHEAD + 4);
});

Deno.test("readJournal() skips unknown tags and keeps them verbatim", () => {
  const unknown = {
    kind: "unknown",
    tag: 0x7777,
    version: 1,
    payload: new Uint8Array([1, 2]),
  } as const;
  const read = readJournal(encodeJournal([unknown, SAMPLES.snapshot]));
  deepStrictEqual(read.committed, [unknown, SAMPLES.snapshot]);
});

Deno.test("readJournal() treats a known tag with a newer version as unknown", () => {
  const frame = encodeRecord(SAMPLES.exit);
  frame[2] = 9;
  const bytes = encodeJournal([]);
  const whole = new Uint8Array([...bytes, ...frame]);
  // The frame's checksum covers the version byte, so patch it back in.
  const view = new DataView(whole.buffer);
  const end = whole.length - 4;
  view.setUint32(end, crc(whole.subarray(HEADER_SIZE, end)), true);
  const [r] = readJournal(whole).records;
  strictEqual(r.kind, "unknown");
});

Deno.test("encodeRecord() names the bad field of a malformed record", () => {
  throws(
    () => encodeRecord({ kind: "fd.close", fd: -1 }),
    (e: unknown) => e instanceof RecordEncodeError && /fd\.close\.fd/.test(e.message),
  );
  throws(
    () => encodeRecord({ ...SAMPLES["fd.seek"], offset: 2 ** 60 }),
    (e: unknown) => e instanceof RecordEncodeError && /offset/.test(e.message),
  );
});

Deno.test("readJournal() reports a bad magic as a typed header error", () => {
  const bytes = encodeJournal([SAMPLES.exit]);
  bytes[0] = 0;
  throws(
    () => readJournal(bytes),
    (e: unknown) => e instanceof JournalError && e.code === "bad-magic" && e.recordIndex === -1,
  );
});

import { crc32 } from "node:zlib";
function crc(b: Uint8Array): number {
  return crc32(b);
}
