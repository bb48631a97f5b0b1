/**
 * The contract every runner implements inside an instance Worker (see docs/ARCHITECTURE.md).
 *
 * @module
 */

/** A request as plain data: what the host posts to an instance Worker. */
export interface RawRequest {
  /** Upper-case method. */
  method: string;
  /** Absolute URL as the client sent it. */
  url: string;
  /** Header pairs, lower-case names. */
  headers: [string, string][];
  /** The whole body, or null. */
  body: Uint8Array | null;
}

/** A complete response as plain data. */
export interface RawResponse {
  status: number;
  statusText: string;
  /** Header pairs, without hop-by-hop headers. */
  headers: [string, string][];
  /** The whole body, or null. */
  body: Uint8Array | null;
}

/** Turns one HTTP request into guest work and the guest's answer into a response. */
export interface Runner {
  /** Handles one HTTP request against the live guest instance. */
  handle(request: Request): Promise<Response>;
  /**
   * Optional fast path taking and giving plain data, which spares building a `Request` and
   * reading a `Response` stream (each costs about 10 µs). It may still answer with a
   * `Response` when the body is streamed.
   */
  handleRaw?(request: RawRequest): Promise<RawResponse | Response>;
}

/** The runner kinds an app.yaml or wasmer.toml may name. */
export type RunnerKind = "proxy" | "wcgi" | "rack";
