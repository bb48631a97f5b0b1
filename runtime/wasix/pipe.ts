/**
 * `fd_pipe`: WASIX pipes, which are bidirectional (both fds read and write), built on a virtual
 * stream pair.
 *
 * @module
 */

import {
  ERRNO_AGAIN,
  FILETYPE_UNKNOWN,
  Handle,
  type HandleDescription,
  type Process,
  RIGHTS_STREAM,
  type SyscallTable,
} from "../wasi/mod.ts";
import { createStreamPair, type SocketAddress, type VStream } from "../vnet/mod.ts";
import { fail, net } from "./_errno.ts";

const UNNAMED: SocketAddress = { family: "ipv4", ip: "0.0.0.0", port: 0 };

/**
 * One end of a pipe. Reads answer EAGAIN when empty (the syscall waits on
 * {@link PipeHandle.waitReadable}), 0 once every writer of the other end closed; writes answer
 * EPIPE once the other end closed.
 *
 * @example
 * ```ts
 * const [r, w] = PipeHandle.pair();
 * w.write(new TextEncoder().encode("hi"));
 * r.read(new Uint8Array(2)); // 2
 * ```
 */
export class PipeHandle extends Handle {
  readonly #stream: VStream;

  constructor(stream: VStream) {
    super();
    this.#stream = stream;
  }

  /** Two connected pipe ends. */
  static pair(): [PipeHandle, PipeHandle] {
    const [a, b] = createStreamPair(UNNAMED, UNNAMED);
    return [new PipeHandle(a), new PipeHandle(b)];
  }

  override get filetype(): number {
    return FILETYPE_UNKNOWN;
  }

  override get maxRights(): number {
    return RIGHTS_STREAM;
  }

  override read(dst: Uint8Array): number {
    return net(() => this.#stream.read(dst));
  }

  override write(src: Uint8Array): number {
    if (src.byteLength === 0) return 0;
    if (!this.#stream.writable) fail(ERRNO_AGAIN, "The pipe is full");
    return net(() => this.#stream.write(src.slice()));
  }

  override pollReadable(): boolean {
    return this.#stream.readable;
  }

  override pollWritable(): boolean {
    return this.#stream.writable;
  }

  override bytesReadable(): number {
    return this.#stream.available;
  }

  override hangup(): boolean {
    return this.#stream.eof && this.#stream.hangup;
  }

  override waitReadable(): Promise<void> {
    return this.pollReadable() ? Promise.resolve() : this.#stream.changed();
  }

  override waitWritable(): Promise<void> {
    return this.pollWritable() ? Promise.resolve() : this.#stream.changed();
  }

  /** Resolves at the next readiness change. */
  changed(): Promise<void> {
    return this.#stream.changed();
  }

  override close(): void {
    this.#stream.close();
  }

  override describe(): HandleDescription {
    return { kind: "pipe", buffered: this.#stream.available, eof: this.#stream.eof };
  }
}

/** `fd_pipe(ro_fd1, ro_fd2)`. */
export function pipeSyscalls(proc: Process): SyscallTable {
  return {
    fd_pipe(roFd1: number, roFd2: number) {
      proc.mem.view(roFd1, 4);
      proc.mem.view(roFd2, 4);
      const [a, b] = PipeHandle.pair();
      const entry = (handle: Handle) => ({
        handle,
        rightsBase: RIGHTS_STREAM,
        rightsInheriting: 0,
        fdflags: 0,
      });
      const fd1 = proc.fds.insert(entry(a));
      const fd2 = proc.fds.insert(entry(b));
      proc.mem.setU32(roFd1, fd1);
      proc.mem.setU32(roFd2, fd2);
      return 0;
    },
  };
}
