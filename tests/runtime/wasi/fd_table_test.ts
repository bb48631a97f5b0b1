import assert from "node:assert/strict";
import {
  ERRNO_BADF,
  ERRNO_NOTCAPABLE,
  FdTable,
  Handle,
  RIGHTS_FD_READ,
  RIGHTS_FD_SEEK,
  WasiError,
} from "../../../runtime/wasi/mod.ts";

class Counted extends Handle {
  closed = 0;
  override close(): void {
    this.closed++;
  }
}

const entry = (handle: Handle, rights = 0) => ({
  handle,
  rightsBase: rights,
  rightsInheriting: 0,
  fdflags: 0,
});

Deno.test("FdTable.insert() uses the lowest free fd, at least minFd", () => {
  const t = new FdTable();
  assert.equal(t.insert(entry(new Handle())), 0);
  assert.equal(t.insert(entry(new Handle())), 1);
  assert.equal(t.insert(entry(new Handle()), 10), 10);
  assert.equal(t.insert(entry(new Handle())), 2);
  t.close(1);
  assert.equal(t.insert(entry(new Handle())), 1);
  assert.equal(t.size, 4);
});

Deno.test("FdTable.entry() checks rights: missing read is BADF, others NOTCAPABLE", () => {
  const t = new FdTable();
  const fd = t.insert(entry(new Handle(), RIGHTS_FD_SEEK));
  assert.throws(
    () => t.entry(fd, RIGHTS_FD_READ),
    (e: unknown) => e instanceof WasiError && e.errno === ERRNO_BADF,
  );
  assert.throws(
    () => t.entry(fd, 1 << 20),
    (e: unknown) => e instanceof WasiError && e.errno === ERRNO_NOTCAPABLE,
  );
  assert.throws(
    () => t.entry(42, 0),
    (e: unknown) => e instanceof WasiError && e.errno === ERRNO_BADF,
  );
  assert.equal(t.entry(fd, RIGHTS_FD_SEEK).handle instanceof Handle, true);
});

Deno.test("a handle shared by two fds closes only with the last one", () => {
  const t = new FdTable();
  const h = new Counted();
  const a = t.insert(entry(h));
  const b = t.insert(entry(h));
  t.close(a);
  assert.equal(h.closed, 0);
  t.close(b);
  assert.equal(h.closed, 1);
});

Deno.test("FdTable.renumber() closes the target's handle and moves the source", () => {
  const t = new FdTable();
  const h1 = new Counted(), h2 = new Counted();
  const a = t.insert(entry(h1));
  const b = t.insert(entry(h2));
  t.renumber(a, b);
  assert.equal(h2.closed, 1);
  assert.equal(t.handle(b), h1);
  assert.equal(t.get(a), undefined);
});

Deno.test("FdTable.entries() and set() round-trip the table as plain entries", () => {
  const t = new FdTable();
  t.insert(entry(new Handle()));
  t.insert(entry(new Handle()), 5);
  const copy = new FdTable();
  for (const [fd, e] of t.entries()) copy.set(fd, { ...e });
  assert.deepEqual(copy.entries().map(([fd]) => fd), [0, 5]);
});
