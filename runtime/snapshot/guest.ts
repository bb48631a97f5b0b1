/**
 * One guest instance as instaboot runs it: a {@link Process} with WASI and WASIX imports, its own
 * virtual network and file system (memory root, package mounts read-only), and, for asyncified
 * modules, an {@link AsyncifyController} between the guest and every blocking import.
 *
 * Both the deploy-time capture and the host-side restore (and the cold boot it falls back to) use
 * this, so a restored instance sees exactly the environment the snapshot was taken in.
 * @module
 */

import {
  type BlockDecision,
  type BlockPoint,
  buildImports,
  type Preopen,
  Process,
  ProcExit,
  RIGHTS_SOCKET,
  type StdinOption,
  type StdoutOption,
  type SyscallResult,
  type SyscallTable,
  UNWIND,
  WASI_MODULE,
  wasiImports,
  wasiSyscalls,
} from "../wasi/mod.ts";
import {
  SocketHandle,
  WASIX_BLOCKING_IMPORTS,
  WASIX_MODULE,
  wasixImports,
  wasixState,
  wasixSyscalls,
} from "../wasix/mod.ts";
import { VirtualNetwork } from "../vnet/mod.ts";
import { MemFs, packageMount } from "../vfs/mod.ts";
import { AsyncifyController } from "./asyncify.ts";
import { suspending } from "./_jspi.ts";
import type { PrepareInfo } from "./prepare.ts";

/** What a guest is configured with: the parts of an app that shape the guest's world. */
export interface GuestConfig {
  /** argv[0]. */
  readonly argv0: string;
  /** Arguments after argv[0]. */
  readonly args: readonly string[];
  /** Environment variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Host directories mounted read-only into the guest. */
  readonly mounts: readonly { readonly guest: string; readonly host: string }[];
  /** Names that resolve to loopback besides `localhost` (the app's own name, as the host does). */
  readonly hostnames?: readonly string[];
}

/** An async-capable snapshot hook (see {@link SnapshotPolicy}). */
export type AsyncBlockHook = (point: BlockPoint) => BlockDecision | Promise<BlockDecision>;

/** Options of {@link Guest.create}. */
export interface GuestOptions {
  /** Guest stdin. @default "null" */
  readonly stdin?: StdinOption;
  /** Guest stdout. @default "null" */
  readonly stdout?: StdoutOption;
  /** Guest stderr. @default "null" */
  readonly stderr?: StdoutOption;
  /** The network; a fresh one by default. */
  readonly net?: VirtualNetwork;
  /** Replaces the config's env (a WCGI request's environment). */
  readonly env?: Readonly<Record<string, string>>;
  /** The snapshot hook, for capture. */
  readonly hook?: AsyncBlockHook;
  /** Memory for a restore variant that imports it. */
  readonly memory?: WebAssembly.Memory;
}

/** A Process whose snapshot hook may answer with a promise (the runtime's hook is synchronous). */
class HookedProcess extends Process {
  hook: AsyncBlockHook | null = null;

  override beforeBlock(point: BlockPoint): BlockDecision {
    const d = this.hook?.(point) ?? "block";
    // Direct callers (proc_snapshot) need a synchronous answer; the policy only defers idle blocks.
    return d instanceof Promise ? "block" : d;
  }

  override block(
    point: BlockPoint,
    wait: () => Promise<unknown>,
    retry: () => SyscallResult,
  ): SyscallResult {
    const d = this.hook?.(point) ?? "block";
    if (d === "unwind") return UNWIND;
    if (d === "block") return super.block(point, wait, retry);
    // The syscall result may be a promise of UNWIND: the asyncify wrapper handles both forms.
    return d.then((x) => x === "unwind" ? UNWIND : wait().then(retry)) as Promise<number>;
  }
}

/** The port a preview1 server's pre-opened listener is bound to (as the host's Worker does). */
export const PREVIEW1_PORT = 8080;

/**
 * A preview1 module cannot open sockets; one that accepts connections expects its listener
 * pre-opened (`LISTEN_FDS=1`), as `wasmtime run --tcplisten` does.
 */
function wantsPreopenedListener(module: WebAssembly.Module): boolean {
  const imports = WebAssembly.Module.imports(module);
  const wasixListen = imports.some((i) =>
    i.module === WASIX_MODULE && (i.name === "sock_listen" || i.name === "sock_open")
  );
  return !wasixListen &&
    imports.some((i) => i.name === "sock_accept" || i.name === "sock_accept_v2");
}

/** How a run of the guest's entry export ended. */
export type RunOutcome =
  | { readonly kind: "exited"; readonly code: number }
  | { readonly kind: "unwound"; readonly syscall: string };

/** One guest instance. Create with {@link Guest.create}. */
export class Guest {
  /** The WASI process (fds, env, boot facts). */
  readonly proc: Process;
  /** The guest's own virtual network. */
  readonly net: VirtualNetwork;
  /** The guest's file system: a memory root with the package mounted read-only. */
  readonly fs: MemFs;
  /** The Wasm instance. */
  readonly instance: WebAssembly.Instance;
  /** What prepare did to the module. */
  readonly info: PrepareInfo;
  /** Null unless the module was asyncified by prepare. */
  readonly asyncify: AsyncifyController | null;
  readonly #counters: { envReads: number };

  private constructor(
    proc: Process,
    net: VirtualNetwork,
    fs: MemFs,
    instance: WebAssembly.Instance,
    info: PrepareInfo,
    asyncify: AsyncifyController | null,
    counters: { envReads: number },
  ) {
    this.proc = proc;
    this.net = net;
    this.fs = fs;
    this.instance = instance;
    this.info = info;
    this.asyncify = asyncify;
    this.#counters = counters;
  }

  /** How many times the guest called `environ_sizes_get` or `environ_get`. */
  get envReads(): number {
    return this.#counters.envReads;
  }

  /**
   * Builds the process, the imports and the instance (synchronously instantiated: the module is
   * already compiled).
   */
  static create(
    module: WebAssembly.Module,
    info: PrepareInfo,
    config: GuestConfig,
    options: GuestOptions = {},
  ): Guest {
    const fs = new MemFs();
    const net = options.net ?? new VirtualNetwork({ hostnames: config.hostnames });
    // Wasmer-style: a writable memory root with the package mounted read-only inside it, so what
    // the app writes is state a snapshot can list. A preview1 server instead gets its mounts as
    // separate preopens and its listener after them (wasi-libc stops scanning preopens at the
    // first fd that is not a directory), the layout the host's cold boot uses.
    const preview1Server = wantsPreopenedListener(module);
    let preopens: Preopen[] | undefined;
    if (preview1Server) {
      preopens = config.mounts.map((m) => ({
        guestPath: m.guest,
        dir: packageMount(m.host),
        readOnly: true,
      }));
    } else {
      for (const m of config.mounts) fs.mount(m.guest, packageMount(m.host));
    }
    const env = options.env ?? config.env;
    const proc = new HookedProcess({
      args: [config.argv0, ...config.args],
      env: preview1Server ? { ...env, LISTEN_FDS: "1" } : env,
      fs,
      preopens,
      stdin: options.stdin ?? "null",
      stdout: options.stdout ?? "null",
      stderr: options.stderr ?? "null",
    });
    proc.hook = options.hook ?? null;
    wasixState(proc, { net });
    if (preview1Server) {
      const listener = net.listen(
        net.bind({ family: "ipv4", ip: "127.0.0.1", port: PREVIEW1_PORT }),
      );
      proc.fds.insert({
        handle: SocketHandle.listening("ipv4", listener),
        rightsBase: RIGHTS_SOCKET,
        rightsInheriting: RIGHTS_SOCKET,
        fdflags: 0,
      });
    }
    const ctl = info.asyncify === "added" ? new AsyncifyController(info) : null;
    const counters = { envReads: 0 };
    const countEnvReads = (ns: WebAssembly.ModuleImports) => {
      for (const name of ["environ_sizes_get", "environ_get"]) {
        const fn = ns[name] as ((...a: unknown[]) => unknown) | undefined;
        if (fn) {
          ns[name] = (...a: unknown[]) => {
            counters.envReads++;
            return fn(...a);
          };
        }
      }
      return ns;
    };
    const namespace = (table: SyscallTable, blocking: ReadonlySet<string>) => {
      const plain = countEnvReads(buildImports(table, new Set(), { jspi: false }));
      for (const name of blocking) {
        const fn = plain[name] as ((...a: unknown[]) => unknown) | undefined;
        if (fn === undefined) continue;
        plain[name] = suspending(ctl ? ctl.wrap(fn, name) : fn);
      }
      return plain;
    };
    // With no asyncify and no hook to serve (a host-side cold boot, or the restore of a reactor),
    // the guest gets the runtime's own import tables, with their fast paths for calls that do
    // not block; capture and asyncified guests need every blocking import to go through the hook.
    const imports: WebAssembly.Imports = ctl === null && proc.hook === null
      ? {
        [WASI_MODULE]: countEnvReads(wasiImports(proc)),
        [WASIX_MODULE]: countEnvReads(wasixImports(proc, { net })),
      }
      : {
        [WASI_MODULE]: namespace(wasiSyscalls(proc), WASIX_BLOCKING_IMPORTS),
        [WASIX_MODULE]: namespace(
          { ...wasiSyscalls(proc), ...wasixSyscalls(proc) },
          WASIX_BLOCKING_IMPORTS,
        ),
      };
    if (options.memory) imports.thaw = { memory: options.memory };
    const instance = new WebAssembly.Instance(module, imports);
    ctl?.bind(instance);
    proc.bind(instance);
    return new Guest(proc, net, fs, instance, info, ctl, counters);
  }

  /** Replaces the snapshot hook (capture only). */
  setHook(hook: AsyncBlockHook | null): void {
    (this.proc as HookedProcess).hook = hook;
  }

  /**
   * Calls the entry export (`_start`, or `_initialize` for reactors) through JSPI and says how it
   * ended: the guest exited (returned, or proc_exit), or it unwound for a snapshot.
   */
  async run(entry = "_start"): Promise<RunOutcome> {
    const fn = this.instance.exports[entry];
    // A reactor need not export _initialize: then it has nothing to initialize.
    if (typeof fn !== "function" && entry === "_initialize") return { kind: "exited", code: 0 };
    if (typeof fn !== "function") {
      throw new Error(`The module has no ${entry} export`);
    }
    try {
      await this.proc.call(fn as () => unknown);
    } catch (e) {
      if (!(e instanceof ProcExit)) throw e;
      this.proc.exitCode = e.code;
      return { kind: "exited", code: e.code };
    }
    if (this.asyncify !== null && this.asyncify.state === "unwinding") {
      return { kind: "unwound", syscall: this.asyncify.unwindReason ?? "?" };
    }
    this.proc.exitCode = 0;
    return { kind: "exited", code: 0 };
  }
}
