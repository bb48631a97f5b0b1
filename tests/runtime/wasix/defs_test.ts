import assert from "node:assert/strict";
import {
  ADDR_IP_SIZE,
  ADDR_PORT_SIZE,
  ADDRESS_FAMILY_INET4,
  ADDRESS_FAMILY_INET6,
  ADDRESS_FAMILY_UNIX,
  EPOLL_EVENT_SIZE,
  readAddrPort,
  readEpollEvent,
  readOptionTimestamp,
  readTty,
  TTY_SIZE,
  writeAddrIp,
  writeAddrPort,
  writeEpollEvent,
  writeOptionTimestamp,
  writeTty,
} from "../../../runtime/wasix/mod.ts";
import { DEFAULT_TTY } from "../../../runtime/wasix/mod.ts";

const view = (n: number) => new DataView(new ArrayBuffer(n + 16));

Deno.test("writeAddrPort() lays out IPv4 as tag, pad, port (host order), address", () => {
  const v = view(ADDR_PORT_SIZE);
  writeAddrPort(v, 4, { family: "ipv4", ip: "127.0.0.1", port: 8080 });
  const b = new Uint8Array(v.buffer, 4, 8);
  assert.deepEqual([...b], [ADDRESS_FAMILY_INET4, 0, 8080 & 0xff, 8080 >> 8, 127, 0, 0, 1]);
  assert.deepEqual(readAddrPort(v, 4), {
    kind: "ip",
    address: { family: "ipv4", ip: "127.0.0.1", port: 8080 },
  });
});

Deno.test("addr_port round-trips IPv6 addresses", () => {
  const v = view(ADDR_PORT_SIZE);
  for (const ip of ["::1", "fe80::1", "2001:db8::ff00:42:8329"]) {
    writeAddrPort(v, 0, { family: "ipv6", ip, port: 443 });
    assert.equal(v.getUint8(0), ADDRESS_FAMILY_INET6);
    assert.deepEqual(readAddrPort(v, 0), {
      kind: "ip",
      address: { family: "ipv6", ip, port: 443 },
    });
  }
});

Deno.test("readAddrPort() decodes unix paths and rejects unknown tags", () => {
  const v = view(ADDR_PORT_SIZE);
  v.setUint8(0, ADDRESS_FAMILY_UNIX);
  new Uint8Array(v.buffer, 2).set(new TextEncoder().encode("/tmp/sock\0"));
  assert.deepEqual(readAddrPort(v, 0), { kind: "unix", path: "/tmp/sock" });
  v.setUint8(0, 9);
  assert.equal(readAddrPort(v, 0), null);
});

Deno.test("writeAddrIp() writes 18-byte addr_ip entries", () => {
  const v = view(ADDR_IP_SIZE * 2);
  writeAddrIp(v, 0, "127.0.0.1");
  writeAddrIp(v, ADDR_IP_SIZE, "::1");
  const b = new Uint8Array(v.buffer);
  assert.deepEqual([...b.subarray(0, 6)], [1, 0, 127, 0, 0, 1]);
  assert.equal(b[ADDR_IP_SIZE], 2);
  assert.equal(b[ADDR_IP_SIZE + 2 + 15], 1);
});

Deno.test("epoll_event round-trips with data at offset 8", () => {
  const v = view(EPOLL_EVENT_SIZE);
  const e = { events: 0x21, ptr: 0x1000, fd: 7, data1: 9, data2: 0x1234_5678_9abc_def0n };
  writeEpollEvent(v, 0, e);
  assert.equal(v.getUint32(12, true), 7);
  assert.equal(v.getBigUint64(24, true), e.data2);
  assert.deepEqual(readEpollEvent(v, 0), e);
});

Deno.test("option_timestamp and tty round-trip", () => {
  const v = view(32);
  writeOptionTimestamp(v, 0, 5n);
  assert.equal(readOptionTimestamp(v, 0), 5n);
  writeOptionTimestamp(v, 0, null);
  assert.equal(readOptionTimestamp(v, 0), null);
  const t = view(TTY_SIZE);
  const tty = { ...DEFAULT_TTY, cols: 132, echo: false };
  writeTty(t, 0, tty);
  assert.equal(t.getUint32(0, true), 132);
  assert.deepEqual(readTty(t, 0), tty);
});
