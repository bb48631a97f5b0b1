/**
 * Instances: instantiate a module with WASI/WASIX imports, run it in a Worker, and pool the
 * Workers per app.
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

// Instantiate and run a module with WASI/WASIX imports (tests/CLI engineer).
export {
  asTrap,
  checkImports,
  compileModule,
  type DirMapping,
  DirMappingError,
  GuestTrapError,
  instantiate,
  InstantiateError,
  type InstantiateOptions,
  InvalidModuleError,
  loadModule,
  ModuleNotFoundError,
  ModuleShapeError,
  runModule,
  type ThawInstance,
  UnknownImportError,
} from "./instantiate.ts";
