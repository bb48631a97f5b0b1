/**
 * Socket addresses of the virtual network, as plain data, and conversions between their text and
 * byte forms.
 *
 * @module
 */

import { VnetError } from "./errors.ts";

/** The IP family of an address. */
export type IpFamily = "ipv4" | "ipv6";

/**
 * An IP socket address: plain data, safe to journal.
 *
 * @example
 * ```ts
 * const addr: SocketAddress = { family: "ipv4", ip: "127.0.0.1", port: 8080 };
 * ```
 */
export interface SocketAddress {
  readonly family: IpFamily;
  /** Canonical text form: dotted quad for IPv4, RFC 5952 for IPv6. */
  readonly ip: string;
  readonly port: number;
}

/**
 * Parses an IPv4 or IPv6 address into its bytes (4 or 16); null when `ip` is not numeric.
 *
 * @example
 * ```ts
 * ipToBytes("127.0.0.1"); // Uint8Array [127, 0, 0, 1]
 * ipToBytes("localhost"); // null
 * ```
 */
export function ipToBytes(ip: string): Uint8Array | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    return bytes.every((b) => b <= 255) ? new Uint8Array(bytes) : null;
  }
  if (!ip.includes(":")) return null;
  const text = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === "") return [];
    const groups = s.split(":").map((g) => /^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN);
    return groups.some(Number.isNaN) ? null : groups;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...new Array(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/**
 * Formats 4 or 16 address bytes as canonical text.
 *
 * @example
 * ```ts
 * bytesToIp(new Uint8Array([127, 0, 0, 1])); // "127.0.0.1"
 * ```
 */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.byteLength === 4) return Array.from(bytes).join(".");
  if (bytes.byteLength !== 16) {
    throw new VnetError(`An IP address has 4 or 16 bytes, not ${bytes.byteLength}`, "EINVAL");
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // RFC 5952: compress the longest run (length >= 2) of zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** The family of a numeric IP address; null when it is not numeric. */
export function ipFamily(ip: string): IpFamily | null {
  const bytes = ipToBytes(ip);
  if (bytes === null) return null;
  return bytes.byteLength === 4 ? "ipv4" : "ipv6";
}

/** Returns the canonical text of a numeric IP address, or throws EINVAL. */
export function canonicalIp(ip: string): string {
  const bytes = ipToBytes(ip);
  if (bytes === null) {
    throw new VnetError(`"${ip}" is not a numeric IP address; use e.g. 127.0.0.1 or ::1`, "EINVAL");
  }
  return bytesToIp(bytes);
}

/** True for 127.0.0.0/8 and ::1. */
export function isLoopback(ip: string): boolean {
  const b = ipToBytes(ip);
  if (b === null) return false;
  if (b.byteLength === 4) return b[0] === 127;
  return b.every((x, i) => x === (i === 15 ? 1 : 0));
}

/** True for 0.0.0.0 and ::. */
export function isUnspecified(ip: string): boolean {
  const b = ipToBytes(ip);
  return b !== null && b.every((x) => x === 0);
}

/** Formats an address as `HOST:PORT` (IPv6 in brackets). */
export function formatAddress(addr: SocketAddress): string {
  return addr.family === "ipv6" ? `[${addr.ip}]:${addr.port}` : `${addr.ip}:${addr.port}`;
}
