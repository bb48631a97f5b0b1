/**
 * The contract every runner implements inside an instance Worker (see docs/ARCHITECTURE.md).
 *
 * @module
 */

/** Turns one HTTP request into guest work and the guest's answer into a response. */
export interface Runner {
  /** Handles one HTTP request against the live guest instance. */
  handle(request: Request): Promise<Response>;
}

/** The runner kinds an app.yaml or wasmer.toml may name. */
export type RunnerKind = "proxy" | "wcgi" | "rack";
