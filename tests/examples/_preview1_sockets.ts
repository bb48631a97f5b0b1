/**
 * A deliberately tiny wasi_snapshot_preview1 host for socket servers, used to test
 * examples/preview1-server independently of Thaw's runtime. It gives the guest one real loopback
 * listener as fd 3 (like `wasmtime run --tcplisten`) and implements just the imports that server
 * uses. poll_oneoff suspends the guest through JSPI until a socket is ready.
 *
 * To exercise the guest's handling of partial I/O, sock_recv hands out at most `recvChunk` bytes
 * per call and sock_send accepts at most `sendChunk` bytes per call.
 */

const ERRNO_SUCCESS = 0;
const ERRNO_AGAIN = 6;
const ERRNO_BADF = 8;
const EVENTTYPE_FD_READ = 1;
const EVENTTYPE_FD_WRITE = 2;

/** JSPI, which Deno 2.9 enables but its TypeScript types do not describe yet. */
const JSPI = WebAssembly as unknown as {
  Suspending: new (fn: (...args: number[]) => Promise<number>) => unknown;
  promising: (fn: () => void) => () => Promise<void>;
};

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

interface Socket {
  conn: Deno.TcpConn;
  pending: Uint8Array[];
  eof: boolean;
}

/** Options for {@linkcode startPreview1Server}. */
export interface HarnessOptions {
  recvChunk?: number;
  sendChunk?: number;
}

/** A running guest server. */
export interface RunningServer {
  readonly port: number;
  /** What the guest wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Instantiates `module` with fd 3 listening on 127.0.0.1:<random port> and starts `_start`. */
export async function startPreview1Server(
  module: WebAssembly.Module,
  options: HarnessOptions = {},
): Promise<RunningServer> {
  const recvChunk = options.recvChunk ?? 65536;
  const sendChunk = options.sendChunk ?? 65536;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.TcpConn[] = [];
  const sockets = new Map<number, Socket>();
  let nextFd = 4;
  let stopped = false;
  let stderr = "";
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  (async () => {
    try {
      for await (const conn of listener) {
        accepted.push(conn);
        notify();
      }
    } catch {
      // Listener closed by stop().
    }
  })();

  async function pump(socket: Socket): Promise<void> {
    const buf = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await socket.conn.read(buf);
        if (n === null) break;
        socket.pending.push(buf.slice(0, n));
        notify();
      }
    } catch {
      // Reset or closed: report EOF.
    }
    socket.eof = true;
    notify();
  }

  // Set once the instance exists; imports only run after that.
  const guest: { memory?: WebAssembly.Memory } = {};
  const buffer = () => guest.memory!.buffer;
  const view = () => new DataView(buffer());
  const bytes = () => new Uint8Array(buffer());
  const env = ["LISTEN_FDS=1"].map((s) => new TextEncoder().encode(s + "\0"));

  function ready(fd: number, type: number): boolean {
    if (type === EVENTTYPE_FD_WRITE) return true;
    if (fd === 3) return accepted.length > 0;
    const s = sockets.get(fd);
    return s === undefined || s.pending.length > 0 || s.eof;
  }

  const imports = {
    environ_sizes_get(countPtr: number, sizePtr: number) {
      view().setUint32(countPtr, env.length, true);
      view().setUint32(sizePtr, env.reduce((n, e) => n + e.length, 0), true);
      return ERRNO_SUCCESS;
    },
    environ_get(ptrs: number, buf: number) {
      for (const e of env) {
        view().setUint32(ptrs, buf, true);
        bytes().set(e, buf);
        ptrs += 4;
        buf += e.length;
      }
      return ERRNO_SUCCESS;
    },
    fd_write(fd: number, iovs: number, len: number, retPtr: number) {
      let total = 0;
      for (let i = 0; i < len; i++) {
        const ptr = view().getUint32(iovs + i * 8, true);
        const n = view().getUint32(iovs + i * 8 + 4, true);
        if (fd === 2 || fd === 1) stderr += new TextDecoder().decode(bytes().slice(ptr, ptr + n));
        total += n;
      }
      view().setUint32(retPtr, total, true);
      return fd === 1 || fd === 2 ? ERRNO_SUCCESS : ERRNO_BADF;
    },
    fd_seek: () => ERRNO_BADF,
    fd_close(fd: number) {
      const s = sockets.get(fd);
      if (s === undefined) return ERRNO_BADF;
      sockets.delete(fd);
      try {
        s.conn.close();
      } catch {
        // Already closed by the peer.
      }
      return ERRNO_SUCCESS;
    },
    proc_exit(code: number) {
      throw new Exit(code);
    },
    sock_accept(fd: number, _flags: number, retPtr: number) {
      if (fd !== 3) return ERRNO_BADF;
      const conn = accepted.shift();
      if (conn === undefined) return ERRNO_AGAIN;
      const socket: Socket = { conn, pending: [], eof: false };
      const newFd = nextFd++;
      sockets.set(newFd, socket);
      pump(socket);
      view().setUint32(retPtr, newFd, true);
      return ERRNO_SUCCESS;
    },
    sock_recv(
      fd: number,
      iovs: number,
      len: number,
      _flags: number,
      retPtr: number,
      flagsPtr: number,
    ) {
      const s = sockets.get(fd);
      if (s === undefined) return ERRNO_BADF;
      if (s.pending.length === 0) {
        if (!s.eof) return ERRNO_AGAIN;
        view().setUint32(retPtr, 0, true);
        view().setUint16(flagsPtr, 0, true);
        return ERRNO_SUCCESS;
      }
      let budget = recvChunk;
      let total = 0;
      for (let i = 0; i < len && budget > 0 && s.pending.length > 0; i++) {
        const ptr = view().getUint32(iovs + i * 8, true);
        const room = Math.min(view().getUint32(iovs + i * 8 + 4, true), budget);
        let filled = 0;
        while (filled < room && s.pending.length > 0) {
          const head = s.pending[0];
          const n = Math.min(room - filled, head.length);
          bytes().set(head.subarray(0, n), ptr + filled);
          filled += n;
          if (n === head.length) s.pending.shift();
          else s.pending[0] = head.subarray(n);
        }
        total += filled;
        budget -= filled;
      }
      view().setUint32(retPtr, total, true);
      view().setUint16(flagsPtr, 0, true);
      return ERRNO_SUCCESS;
    },
    sock_send: new JSPI.Suspending(
      async (fd: number, iovs: number, len: number, _flags: number, retPtr: number) => {
        const s = sockets.get(fd);
        if (s === undefined) return ERRNO_BADF;
        const parts: Uint8Array[] = [];
        let budget = sendChunk;
        for (let i = 0; i < len && budget > 0; i++) {
          const ptr = view().getUint32(iovs + i * 8, true);
          const n = Math.min(view().getUint32(iovs + i * 8 + 4, true), budget);
          parts.push(bytes().slice(ptr, ptr + n));
          budget -= n;
        }
        const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of parts) {
          data.set(p, at);
          at += p.length;
        }
        try {
          let written = 0;
          while (written < data.length) written += await s.conn.write(data.subarray(written));
        } catch {
          return 29; // EIO: the peer is gone
        }
        view().setUint32(retPtr, data.length, true);
        return ERRNO_SUCCESS;
      },
    ),
    sock_shutdown(fd: number) {
      const s = sockets.get(fd);
      if (s === undefined) return ERRNO_BADF;
      s.conn.closeWrite().catch(() => {});
      return ERRNO_SUCCESS;
    },
    poll_oneoff: new JSPI.Suspending(
      async (inPtr: number, outPtr: number, nsubs: number, retPtr: number) => {
        for (;;) {
          if (stopped) throw new Exit(0);
          let n = 0;
          for (let i = 0; i < nsubs; i++) {
            const sub = inPtr + i * 48;
            const type = view().getUint8(sub + 8);
            const fd = view().getUint32(sub + 16, true);
            if (!ready(fd, type)) continue;
            const ev = outPtr + n * 32;
            new Uint8Array(buffer(), ev, 32).fill(0);
            view().setBigUint64(ev, view().getBigUint64(sub, true), true);
            view().setUint8(ev + 10, type === EVENTTYPE_FD_WRITE ? type : EVENTTYPE_FD_READ);
            n++;
          }
          if (n > 0) {
            view().setUint32(retPtr, n, true);
            return ERRNO_SUCCESS;
          }
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    ),
  };

  const importObject = { wasi_snapshot_preview1: imports } as unknown as WebAssembly.Imports;
  const instance = await WebAssembly.instantiate(module, importObject);
  guest.memory = instance.exports.memory as WebAssembly.Memory;
  const start = JSPI.promising(instance.exports._start as () => void);
  const done = start().catch((e: unknown) => {
    if (!(e instanceof Exit)) throw e;
  });

  return {
    port: (listener.addr as Deno.NetAddr).port,
    stderr: () => stderr,
    async stop() {
      stopped = true;
      notify();
      listener.close();
      for (const s of sockets.values()) {
        try {
          s.conn.close();
        } catch {
          // Already closed.
        }
      }
      for (const c of accepted) c.close();
      await done;
    },
  };
}
