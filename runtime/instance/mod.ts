/**
 * Instances: the host's side of running guests in Workers. Per-app pools of instance Workers,
 * the Worker spawner, the rings between them and the Worker's message protocol. Instantiating a
 * module with WASI/WASIX imports is runtime/instantiate, which the Worker (instance/worker.ts)
 * uses; the host's main thread does not load it.
 *
 * @module
 */

// Instance Workers and per-app pools (host engineer).
export {
  AppPool,
  type AppPoolOptions,
  type FailureReason,
  InstanceError,
  type InstancePermissions,
  type PoolEvents,
  type PoolRequest,
  type PoolResponse,
  WorkerSpawner,
  type WorkerSpawnerOptions,
} from "./pool.ts";
export type {
  BootFunction,
  BootResult,
  HostToWorker,
  InstanceSpec,
  WorkerToHost,
} from "./worker.ts";
