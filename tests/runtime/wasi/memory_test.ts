import assert from "node:assert/strict";
import { ERRNO_FAULT, ERRNO_ILSEQ, GuestMemory, WasiError } from "../../../runtime/wasi/mod.ts";

const isErrno = (errno: number) => (e: unknown) => e instanceof WasiError && e.errno === errno;

Deno.test("GuestMemory reads and writes little-endian integers", () => {
  const mem = new GuestMemory(new WebAssembly.Memory({ initial: 1 }));
  mem.setU32(0, 0x01020304);
  assert.equal(mem.getU8(0), 4);
  assert.equal(mem.getU16(0), 0x0304);
  mem.setU64(8, 2n ** 63n + 5n);
  assert.equal(mem.getU64(8), 2n ** 63n + 5n);
  mem.setU64n(16, 2 ** 53 - 1);
  assert.equal(mem.getU64(16), 2n ** 53n - 1n);
});

Deno.test("GuestMemory throws EFAULT for every out-of-bounds access", () => {
  const mem = new GuestMemory(new WebAssembly.Memory({ initial: 1 }));
  const end = 65536;
  for (
    const f of [
      () => mem.getU32(end - 3),
      () => mem.setU32(end, 1),
      () => mem.getU64(end - 7),
      () => mem.setU8(-1, 0), // -1 is 0xffffffff as a u32
      () => mem.bytes(end - 1, 2),
      () => mem.bytes(0, 0x7fffffff),
      () => mem.write(end - 1, new Uint8Array(2)),
      () => mem.readString(end, 1),
      () => mem.view(0x80000000 | 0, 4),
    ]
  ) {
    assert.throws(f, isErrno(ERRNO_FAULT));
  }
  assert.equal(mem.bytes(end, 0).length, 0);
});

Deno.test("GuestMemory sees memory.grow (never keeps a detached view)", () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  const mem = new GuestMemory(memory);
  mem.setU32(0, 7);
  assert.throws(() => mem.getU32(70000), isErrno(ERRNO_FAULT));
  memory.grow(1);
  mem.setU32(70000, 9);
  assert.equal(mem.getU32(70000), 9);
  assert.equal(mem.getU32(0), 7);
  assert.equal(mem.byteLength, 131072);
});

Deno.test("GuestMemory decodes UTF-8 strictly (ILSEQ)", () => {
  const mem = new GuestMemory(new WebAssembly.Memory({ initial: 1 }));
  mem.write(0, new Uint8Array([0x68, 0xc3, 0xa9]));
  assert.equal(mem.readString(0, 3), "hé");
  mem.write(0, new Uint8Array([0xc3]));
  assert.throws(() => mem.readString(0, 1), isErrno(ERRNO_ILSEQ));
});

Deno.test("GuestMemory before bind() answers EFAULT, not a host crash", () => {
  assert.throws(() => new GuestMemory().getU8(0), isErrno(ERRNO_FAULT));
});

Deno.test("GuestMemory follows a shared memory that grew (its buffer is never detached)", () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
  const mem = new GuestMemory(memory);
  mem.setU32(0, 1);
  memory.grow(2);
  mem.setU32(3 * 65536 - 4, 5);
  assert.equal(mem.getU32(3 * 65536 - 4), 5);
  assert.throws(() => mem.getU32(3 * 65536), isErrno(ERRNO_FAULT));
});

Deno.test("GuestMemory refreshes after a grow even for zero-length accesses", () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
  const mem = new GuestMemory(memory);
  mem.getU8(0);
  memory.grow(1);
  assert.equal(mem.bytes(0, 0).length, 0);
  assert.equal(mem.u8(0, 0).length, 131072);
});
