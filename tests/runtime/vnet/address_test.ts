import assert from "node:assert/strict";
import {
  bytesToIp,
  canonicalIp,
  formatAddress,
  ipToBytes,
  isLoopback,
  isUnspecified,
  VnetError,
} from "../../../runtime/vnet/mod.ts";

Deno.test("ipToBytes() parses IPv4 and rejects names", () => {
  assert.deepEqual([...ipToBytes("127.0.0.1")!], [127, 0, 0, 1]);
  assert.equal(ipToBytes("256.0.0.1"), null);
  assert.equal(ipToBytes("localhost"), null);
});

Deno.test("ipToBytes() and bytesToIp() round-trip IPv6 in RFC 5952 form", () => {
  for (const ip of ["::1", "::", "fe80::1:2", "2001:db8::8:800:200c:417a", "1:2:3:4:5:6:7:8"]) {
    assert.equal(bytesToIp(ipToBytes(ip)!), ip);
  }
  assert.equal(canonicalIp("0:0:0:0:0:0:0:1"), "::1");
  assert.equal(ipToBytes("1::2::3"), null);
});

Deno.test("bytesToIp() rejects odd lengths", () => {
  assert.throws(() => bytesToIp(new Uint8Array(5)), VnetError);
});

Deno.test("isLoopback() and isUnspecified() classify addresses", () => {
  assert.ok(isLoopback("127.1.2.3"));
  assert.ok(isLoopback("::1"));
  assert.ok(!isLoopback("10.0.0.1"));
  assert.ok(isUnspecified("0.0.0.0"));
  assert.ok(isUnspecified("::"));
});

Deno.test("formatAddress() brackets IPv6", () => {
  assert.equal(formatAddress({ family: "ipv6", ip: "::1", port: 80 }), "[::1]:80");
  assert.equal(formatAddress({ family: "ipv4", ip: "127.0.0.1", port: 80 }), "127.0.0.1:80");
});
