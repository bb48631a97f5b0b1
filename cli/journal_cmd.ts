/**
 * `thaw journal inspect|verify|compact`: look into, check and shrink journal files.
 *
 * @example
 * ```sh
 * deno task thaw journal inspect app.journal
 * deno task thaw journal inspect app.journal --json
 * deno task thaw journal verify app.journal
 * deno task thaw journal compact app.journal app.compact.journal
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import {
  compactRecords,
  type FrameHead,
  JournalError,
  JournalFile,
  readJournalFile,
  type RecordSummary,
  verifyJournal,
  writeJournalFile,
} from "../journal/mod.ts";

const USAGE = `Usage:
  thaw journal inspect FILE [--json]   table of records, bytes by kind and totals
  thaw journal verify FILE             check checksums, structure and snapshot completeness
  thaw journal compact IN OUT [--keep-pending]
                                       drop what the last snapshot does not need
`;

/** One row of `inspect`. */
interface Row {
  index: number;
  offset: number;
  kind: string;
  bytes: number;
  detail: string;
}

function describe(r: RecordSummary): string {
  switch (r.kind) {
    case "identity":
      return `module ${hex(r.moduleHash).slice(0, 16)} config ${
        hex(r.configHash).slice(0, 16)
      } thaw ${r.thawVersion}`;
    case "memory.size":
      return `memory ${r.memoryIndex}: ${r.pages} pages`;
    case "memory.run":
      return `memory ${r.memoryIndex} @${r.offset} +${r.byteLength} ${r.codec} -> ${r.data.length}`;
    case "globals":
      return `${r.globals.length} globals`;
    case "thread.state":
      return `thread ${r.threadId} in ${r.entry}, rewind ${r.rewindData.length} B, sp ${r.stackPointer}`;
    case "fd.open":
      return `fd ${r.fd} ${r.fdKind} ${r.path}`;
    case "fd.close":
    case "fd.seek":
    case "fd.set_flags":
      return `fd ${r.fd}${"offset" in r ? ` to ${r.offset}` : ""}${
        "fdflags" in r ? ` flags ${r.fdflags}` : ""
      }`;
    case "fd.renumber":
      return `fd ${r.from} -> ${r.to}`;
    case "fd.dup":
      return `fd ${r.fd} -> ${r.newFd}`;
    case "fs.write":
      return `${r.path} @${r.offset} +${r.data.length}`;
    case "fs.truncate":
      return `${r.path} to ${r.size}`;
    case "fs.mkdir":
    case "fs.rmdir":
    case "fs.unlink":
    case "fs.set_times":
      return r.path;
    case "fs.rename":
    case "fs.link":
      return `${r.from} -> ${r.to}`;
    case "fs.symlink":
      return `${r.path} -> ${r.target}`;
    case "sock.open":
      return `fd ${r.fd} family ${r.family} type ${r.sockType}`;
    case "sock.bind":
      return `fd ${r.fd} ${r.address}`;
    case "sock.listen":
      return `fd ${r.fd} backlog ${r.backlog}`;
    case "sock.connected":
      return `fd ${r.fd} ${
        r.accepted ? "accepted from" : "connected to"
      } ${r.peer} (not restorable)`;
    case "fact.random":
      return `${r.bytes.length} random bytes`;
    case "fact.clock":
      return `clock ${r.clockId} = ${r.timeNs} ns`;
    case "fact.env":
      return `${r.args.length} args, ${r.env.length} env vars`;
    case "snapshot":
      return `trigger ${r.trigger} at ${r.timeNs} ns`;
    case "exit":
      return `code ${r.code}`;
    case "unknown":
      return `tag 0x${r.tag.toString(16)} v${r.version}, skipped`;
  }
}

function hex(b: { readonly length: number }): string {
  if (!(b instanceof Uint8Array)) return "?".repeat(2 * b.length);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function table(header: string[], rows: (string | number)[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]) =>
    cells.map((c, i) => right[i] ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))
      .join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

async function inspect(path: string, json: boolean): Promise<number> {
  const file = await JournalFile.open(path);
  const rows: Row[] = [];
  const byKind = new Map<string, { count: number; bytes: number }>();
  let snapshots = 0, sinceSnapshot = 0, memoryBytes = 0, memoryStored = 0;
  let damage: JournalError | null = null;
  try {
    for await (const head of file.frames()) {
      const record = await file.summarize(head);
      rows.push(row(head, record));
      const k = byKind.get(head.kind) ?? { count: 0, bytes: 0 };
      k.count++;
      k.bytes += head.frameLength;
      byKind.set(head.kind, k);
      sinceSnapshot++;
      if (record.kind === "snapshot") {
        snapshots++;
        sinceSnapshot = 0;
      } else if (record.kind === "memory.run") {
        memoryBytes += record.byteLength;
        memoryStored += record.data.length;
      }
    }
  } catch (e) {
    if (!(e instanceof JournalError)) throw e;
    damage = e;
  } finally {
    file.close();
  }
  const totals = {
    fileBytes: file.byteLength,
    records: rows.length,
    snapshots,
    pending: snapshots === 0 ? rows.length : sinceSnapshot,
    memoryBytes,
    memoryStoredBytes: memoryStored,
  };
  const kinds = [...byKind].sort((a, b) => b[1].bytes - a[1].bytes);
  if (json) {
    console.log(JSON.stringify(
      {
        file: path,
        formatVersion: file.header.formatVersion,
        records: rows,
        byKind: Object.fromEntries(kinds),
        totals,
        damage: damage &&
          {
            code: damage.code,
            message: damage.message,
            offset: damage.offset,
            recordIndex: damage.recordIndex,
          },
      },
      null,
      2,
    ));
  } else {
    console.log(`${path}: Thaw journal, format version ${file.header.formatVersion}\n`);
    console.log(table(
      ["#", "offset", "kind", "bytes", "detail"],
      rows.map((r) => [r.index, r.offset, r.kind, r.bytes, r.detail]),
      [true, true, false, true, false],
    ));
    console.log("\nBytes by kind:\n");
    console.log(table(
      ["kind", "records", "bytes", "share"],
      kinds.map((
        [k, v],
      ) => [k, v.count, v.bytes, `${(100 * v.bytes / file.byteLength).toFixed(1)}%`]),
      [false, true, true, true],
    ));
    const share = 100 * memoryStored / memoryBytes;
    const ratio = memoryBytes > 0 ? ` (${share.toFixed(share < 1 ? 2 : 1)}%)` : "";
    console.log(
      `\nTotal: ${totals.records} records, ${totals.fileBytes} bytes, ${snapshots} snapshot(s), ${totals.pending} pending record(s); memory ${memoryBytes} bytes stored in ${memoryStored}${ratio}`,
    );
    if (damage !== null) console.error(`journal inspect: ${path}: ${damage.message}`);
  }
  return damage === null ? 0 : 1;
}

function row(head: FrameHead, record: RecordSummary): Row {
  return {
    index: head.index,
    offset: head.offset,
    kind: head.kind,
    bytes: head.frameLength,
    detail: describe(record),
  };
}

async function verify(path: string): Promise<number> {
  const report = await verifyJournal(path);
  if (!report.ok) {
    const p = report.problems[0];
    console.error(`journal verify: ${path}: ${p.message}`);
    if (report.problems.length > 1) {
      console.error(`(${report.problems.length - 1} more problem(s) after it)`);
    }
    return 1;
  }
  console.log(
    `${path}: OK, ${report.records} records, ${report.snapshots} snapshot(s), ${report.pending} pending, ${report.unknown} unknown, ${report.byteLength} bytes`,
  );
  return 0;
}

async function compact(input: string, output: string, keepPending: boolean): Promise<number> {
  const read = await readJournalFile(input);
  const out = compactRecords(read.records, { keepPending });
  const before = (await Deno.stat(input)).size;
  const tmp = `${output}.tmp`;
  const after = await writeJournalFile(tmp, out);
  await Deno.rename(tmp, output);
  const saved = before > 0 ? (100 * (before - after) / before).toFixed(1) : "0.0";
  console.log(
    `${input}: ${before} bytes, ${read.records.length} records -> ${output}: ${after} bytes, ${out.length} records (${saved}% smaller)`,
  );
  if (read.pending.length > 0 && !keepPending) {
    console.log(`Dropped ${read.pending.length} pending record(s) after the last snapshot`);
  }
  return 0;
}

/**
 * Runs `thaw journal ...` and returns the exit status: 0 on success, 1 when the journal is
 * damaged or fails verification, 2 on a usage error.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        "keep-pending": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    console.error(`journal: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [sub, ...files] = parsed.positionals;
  if (parsed.values.help || sub === "help") {
    console.log(USAGE);
    return 0;
  }
  const need = sub === "compact" ? 2 : 1;
  if (!["inspect", "verify", "compact"].includes(sub ?? "") || files.length !== need) {
    console.error(
      sub === undefined || !["inspect", "verify", "compact"].includes(sub)
        ? `journal: expected a subcommand: inspect, verify or compact\n\n${USAGE}`
        : `journal ${sub}: expected ${need} file argument(s), got ${files.length}\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    if (sub === "inspect") return await inspect(files[0], parsed.values.json);
    if (sub === "verify") return await verify(files[0]);
    return await compact(files[0], files[1], parsed.values["keep-pending"]);
  } catch (e) {
    if (e instanceof JournalError) {
      console.error(`journal ${sub}: ${files[0]}: ${e.message}`);
      return 1;
    }
    if (e instanceof Deno.errors.NotFound) {
      console.error(`journal ${sub}: ${(e as Error).message}; check the path`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
