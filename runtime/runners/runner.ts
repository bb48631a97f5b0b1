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
  /**
   * Optional fastest path, for a runner whose guest reads HTTP/1.1 itself (the proxy runner):
   * the request arrives as the exact bytes to hand the guest (head, then body, as the host
   * encoded them once), and the answer goes to `respond` as plain data, a streamed `Response`,
   * or an error (its `status`, if any, is the one to answer with).
   */
  handleWire?(method: string, bytes: Uint8Array, respond: (result: WireResult) => void): void;
}

/** What {@linkcode Runner.handleWire} answers with. */
export type WireResult = RawResponse | Response | Error;

/** The runner kinds an app.yaml or wasmer.toml may name. */
export type RunnerKind = "proxy" | "wcgi" | "rack";
