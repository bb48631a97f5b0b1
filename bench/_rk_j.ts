import { captureMemoryRuns, encodeJournal, readJournal, memoryImage } from "../journal/mod.ts";
const mem = new Uint8Array(1 << 20); mem[5] = 1;
const runs = captureMemoryRuns(mem, { codec: "lz4" });
console.log(runs.length, readJournal(encodeJournal([...runs, { kind: "snapshot", trigger: "explicit", timeNs: 0n }])).committed.length);
