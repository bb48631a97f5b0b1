/**
 * The OS part of a snapshot: the file system's changes since boot, the fd table and the sockets,
 * read from a guest into journal records and applied to a fresh guest of the same config.
 *
 * - Files written, created or removed in the memory root become `fs.*` records (package mounts are
 *   read-only configuration, never state).
 * - Every fd becomes `fd.open` (plus `fd.seek` for files). Stdio and preopens are recreated by the
 *   process itself; restore only checks they are where the snapshot had them.
 * - Sockets: `sock.open`, `sock.bind`, `sock.listen` rebuild listeners on the new instance's
 *   network. Connected sockets (`sock.connected`) come back closed: their peer is gone.
 * - An epoll instance is an `fd.open` of kind `other` whose path is `epoll:` and its interest list
 *   as JSON; restore re-registers each watched fd.
 * - Anything else (pipes, event fds) comes back closed, with a warning at deploy.
 * @module
 */

import type { FdKind, JournalRecord } from "../../journal/mod.ts";
import { applyChanges, type FsChange, listChanges } from "../vfs/mod.ts";
import {
  DirHandle,
  type FdEntry,
  FileHandle,
  type Handle,
  RIGHTS_FD_READ,
  RIGHTS_FD_WRITE,
} from "../wasi/mod.ts";
import { EpollHandle, SocketHandle } from "../wasix/mod.ts";
import {
  createStreamPair,
  formatAddress,
  ipFamily,
  parseHostPort,
  type SocketAddress,
} from "../vnet/mod.ts";
import type { Guest } from "./guest.ts";

const FAMILY_CODES: Record<string, number> = { ipv4: 1, ipv6: 2, unix: 3 };
const FAMILY_NAMES: Record<number, "ipv4" | "ipv6" | "unix"> = { 1: "ipv4", 2: "ipv6", 3: "unix" };

/** Thrown when a journal's OS state cannot be applied to the guest. */
export class OsStateError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "OsStateError";
  }
}

function fsRecords(changes: readonly FsChange[]): JournalRecord[] {
  return changes.map((c): JournalRecord => {
    switch (c.op) {
      case "mkdir":
        return { kind: "fs.mkdir", path: c.path };
      case "rmdir":
        return { kind: "fs.rmdir", path: c.path };
      case "unlink":
        return { kind: "fs.unlink", path: c.path };
      case "write":
        return { kind: "fs.write", path: c.path, offset: c.offset, data: c.data };
      case "truncate":
        return { kind: "fs.truncate", path: c.path, size: c.size };
      case "symlink":
        return { kind: "fs.symlink", path: c.path, target: c.target };
      case "link":
        return { kind: "fs.link", from: c.existing, to: c.path };
      case "rename":
        return { kind: "fs.rename", from: c.from, to: c.to };
      case "times":
        return { kind: "fs.set_times", path: c.path, atimeNs: c.atim, mtimeNs: c.mtim };
    }
  });
}

function fsChanges(records: readonly JournalRecord[]): FsChange[] {
  const out: FsChange[] = [];
  for (const r of records) {
    switch (r.kind) {
      case "fs.mkdir":
        out.push({ op: "mkdir", path: r.path });
        break;
      case "fs.rmdir":
        out.push({ op: "rmdir", path: r.path });
        break;
      case "fs.unlink":
        out.push({ op: "unlink", path: r.path });
        break;
      case "fs.write":
        out.push({ op: "write", path: r.path, offset: r.offset, data: r.data });
        break;
      case "fs.truncate":
        out.push({ op: "truncate", path: r.path, size: r.size });
        break;
      case "fs.symlink":
        out.push({ op: "symlink", path: r.path, target: r.target });
        break;
      case "fs.link":
        out.push({ op: "link", path: r.to, existing: r.from });
        break;
      case "fs.rename":
        out.push({ op: "rename", from: r.from, to: r.to });
        break;
      case "fs.set_times":
        out.push({ op: "times", path: r.path, atim: r.atimeNs, mtim: r.mtimeNs });
        break;
    }
  }
  return out;
}

/** What {@link captureOsState} found. */
export interface OsCapture {
  /** fs.*, fd.*, sock.* records, in a fixed order. */
  readonly records: JournalRecord[];
  /** Things that will not survive a restore (said at deploy time). */
  readonly warnings: string[];
}

const STDIO_KINDS: FdKind[] = ["stdin", "stdout", "stderr"];

/**
 * Reads the guest's fs changes, fds and sockets as journal records (deterministic order: fs
 * changes, then fds in fd order).
 */
export function captureOsState(guest: Guest): OsCapture {
  const warnings: string[] = [];
  const records: JournalRecord[] = fsRecords(listChanges(guest.fs.root));
  for (const [fd, entry] of guest.proc.fds.entries()) {
    const desc = entry.handle.describe();
    const base = {
      kind: "fd.open" as const,
      fd,
      oflags: 0,
      fdflags: entry.fdflags,
      rightsBase: BigInt(entry.rightsBase),
      rightsInheriting: BigInt(entry.rightsInheriting),
    };
    if (entry.preopenPath !== undefined) {
      records.push({ ...base, fdKind: "preopen", path: entry.preopenPath });
    } else if (fd <= 2 && !(entry.handle instanceof SocketHandle)) {
      records.push({ ...base, fdKind: STDIO_KINDS[fd], path: "" });
    } else if (entry.handle instanceof FileHandle) {
      records.push({ ...base, fdKind: "file", path: entry.handle.path });
      records.push({ kind: "fd.seek", fd, offset: Number(desc.position ?? 0) });
    } else if (entry.handle instanceof DirHandle) {
      records.push({ ...base, fdKind: "directory", path: entry.handle.path });
    } else if (entry.handle instanceof SocketHandle) {
      const s = entry.handle;
      records.push({ ...base, fdKind: "socket", path: "" });
      records.push({
        kind: "sock.open",
        fd,
        family: FAMILY_CODES[s.family],
        sockType: 1,
        protocol: s.proto,
      });
      const local = s.localAddress;
      if (local !== null && s.state !== "connected") {
        records.push({ kind: "sock.bind", fd, address: formatAddress(local) });
      }
      if (s.state === "listening") {
        records.push({ kind: "sock.listen", fd, backlog: Number(desc.backlog ?? 128) });
      } else if (s.state === "connected") {
        const peer = s.peerAddress;
        records.push({
          kind: "sock.connected",
          fd,
          peer: peer ? formatAddress(peer) : "",
          accepted: true,
        });
        warnings.push(`fd ${fd}: a connection open at snapshot time comes back closed`);
      }
    } else if (entry.handle instanceof EpollHandle) {
      records.push({ ...base, fdKind: "other", path: `epoll:${JSON.stringify(desc.interests)}` });
    } else {
      records.push({ ...base, fdKind: "other", path: `closed:${desc.kind}` });
      warnings.push(`fd ${fd} (${desc.kind}) cannot be restored; it comes back closed`);
    }
  }
  return { records, warnings };
}

/** Parses the journal's `host:port` (`[v6]:port`) back into an address. */
function parseAddress(text: string): SocketAddress {
  const { hostname, port } = parseHostPort(text);
  const family = ipFamily(hostname);
  if (family === null) throw new OsStateError(`sock.bind holds a bad address "${text}"`);
  return { family, ip: hostname, port };
}

interface EpollInterest {
  fd: number;
  events: number;
  data: [number, number, number, string];
}

/** A socket whose peer has gone: reads see end of file, writes fail. */
function closedConnection(family: "ipv4" | "ipv6" | "unix", guest: Guest): SocketHandle {
  const a: SocketAddress = {
    family: family === "ipv6" ? "ipv6" : "ipv4",
    ip: "127.0.0.1",
    port: 1,
  };
  if (a.family === "ipv6") (a as { ip: string }).ip = "::1";
  const [mine, peer] = createStreamPair(a, { ...a, port: 2 });
  peer.close();
  return SocketHandle.connected(family, mine, guest.net);
}

/**
 * Applies the fs changes, fds and sockets of committed journal records to a fresh guest (before
 * any guest code runs).
 *
 * @throws {OsStateError} when the records do not fit the guest (a stdio or preopen fd differs, a
 *   file is missing, a listener's port is taken).
 */
export function applyOsState(guest: Guest, records: readonly JournalRecord[]): void {
  try {
    applyChanges(guest.fs.root, fsChanges(records));
  } catch (e) {
    throw new OsStateError(`The journal's file changes do not apply: ${(e as Error).message}`);
  }
  const fds = guest.proc.fds;
  const opened = new Map<number, Extract<JournalRecord, { kind: "fd.open" }>>();
  const seeks = new Map<number, number>();
  const sockOpen = new Map<number, Extract<JournalRecord, { kind: "sock.open" }>>();
  const sockBind = new Map<number, string>();
  const sockListen = new Map<number, number>();
  const sockConnected = new Set<number>();
  for (const r of records) {
    if (r.kind === "fd.open") opened.set(r.fd, r);
    else if (r.kind === "fd.close") opened.delete(r.fd);
    else if (r.kind === "fd.seek") seeks.set(r.fd, r.offset);
    else if (r.kind === "sock.open") sockOpen.set(r.fd, r);
    else if (r.kind === "sock.bind") sockBind.set(r.fd, r.address);
    else if (r.kind === "sock.listen") sockListen.set(r.fd, r.backlog);
    else if (r.kind === "sock.connected") sockConnected.add(r.fd);
  }
  // Fds the fresh process has that the snapshot had closed (a guest that closed stdin).
  for (const [fd] of fds.entries()) {
    if (!opened.has(fd)) void fds.close(fd);
  }
  const epolls: [number, string][] = [];
  const entry = (r: { fdflags: number; rightsBase: bigint; rightsInheriting: bigint }, h: Handle) =>
    ({
      handle: h,
      rightsBase: Number(r.rightsBase),
      rightsInheriting: Number(r.rightsInheriting),
      fdflags: r.fdflags,
    }) satisfies FdEntry;
  for (const [fd, r] of [...opened].sort((a, b) => a[0] - b[0])) {
    const have = fds.get(fd);
    switch (r.fdKind) {
      case "stdin":
      case "stdout":
      case "stderr":
      case "preopen":
        if (have === undefined || (r.fdKind === "preopen") !== (have.preopenPath === r.path)) {
          throw new OsStateError(
            `fd ${fd} was ${r.fdKind} ${r.path} at snapshot time but the new process differs`,
          );
        }
        have.fdflags = r.fdflags;
        break;
      case "file":
      case "directory": {
        // Resolved through the preopen holding the path, so files under a preopen whose guest path
        // is not its place in the fs root (a host mount) come back too.
        const rights = Number(r.rightsBase);
        const desc = r.fdKind === "file"
          ? {
            kind: "file",
            path: r.path,
            position: seeks.get(fd) ?? 0,
            readable: (rights & RIGHTS_FD_READ) !== 0,
            writable: (rights & RIGHTS_FD_WRITE) !== 0,
          }
          : { kind: "dir", path: r.path };
        let h: Handle;
        try {
          h = guest.proc.reopen(desc);
        } catch (e) {
          throw new OsStateError(`fd ${fd}: cannot reopen ${r.path}: ${(e as Error).message}`);
        }
        void fds.set(fd, entry(r, h));
        break;
      }
      case "socket": {
        // The fresh process may already hold a socket here (a preview1 server's pre-opened
        // listener): release it first so its address is free to bind again.
        if (have !== undefined) void fds.close(fd);
        const open = sockOpen.get(fd);
        const family = FAMILY_NAMES[open?.family ?? 1] ?? "ipv4";
        let h: SocketHandle;
        if (sockConnected.has(fd)) h = closedConnection(family, guest);
        else {
          h = new SocketHandle({ family, net: guest.net, proto: open?.protocol });
          const bind = sockBind.get(fd);
          if (bind !== undefined) h.bind(parseAddress(bind));
          const backlog = sockListen.get(fd);
          if (backlog !== undefined) h.listen(backlog);
        }
        h.setFdflags(r.fdflags);
        void fds.set(fd, entry(r, h));
        break;
      }
      case "other":
        if (r.path.startsWith("epoll:")) {
          const h = new EpollHandle();
          void fds.set(fd, entry(r, h));
          epolls.push([fd, r.path.slice("epoll:".length)]);
        }
        // Other kinds come back closed (the deploy warned about them).
        break;
      default:
        break;
    }
  }
  for (const [fd, json] of epolls) {
    const ep = fds.handle(fd) as EpollHandle;
    for (const it of JSON.parse(json) as EpollInterest[]) {
      const watched = fds.get(it.fd);
      if (watched === undefined) continue;
      ep.control(0, it.fd, watched.handle, {
        events: it.events,
        ptr: it.data[0],
        fd: it.data[1],
        data1: it.data[2],
        data2: BigInt(it.data[3]),
      });
    }
  }
}
