/**
 * Host-header routing: `<name>.localhost` for every app, every domain an app names (with
 * `*.example.com` wildcards), and an optional default app for everything else.
 *
 * @module
 */

/** One routable app. */
export interface Route {
  /** The app's name; `<name>.localhost` routes to it. */
  readonly name: string;
  /** Extra host names; a leading `*.` matches any subdomain. */
  readonly domains?: readonly string[];
}

/**
 * Maps a Host header to an app name.
 *
 * @example
 * ```ts
 * import { Router } from "./router.ts";
 * const router = new Router([{ name: "hello", domains: ["hello.example.com"] }]);
 * console.assert(router.match("hello.localhost:8000") === "hello");
 * console.assert(router.match("HELLO.example.com") === "hello");
 * console.assert(router.match("other.localhost") === undefined);
 * ```
 */
export class Router {
  #exact = new Map<string, string>();
  #wildcards: [suffix: string, name: string][] = [];
  #fallback: string | undefined;

  /** Builds the table; `defaultApp` answers hosts that match nothing. */
  constructor(routes: Iterable<Route> = [], defaultApp?: string) {
    for (const route of routes) this.add(route);
    this.#fallback = defaultApp;
  }

  /**
   * Adds an app's names. A name already taken by another app keeps its first owner; adding an
   * app again (a new version) keeps its names.
   *
   * @returns the host names that were already taken, so the caller can warn.
   */
  add(route: Route): string[] {
    const clashes: string[] = [];
    const hosts = new Set(
      [`${route.name}.localhost`, ...(route.domains ?? [])].map((h) => h.toLowerCase()),
    );
    for (const host of hosts) {
      if (host.startsWith("*.")) {
        const suffix = host.slice(1);
        const owner = this.#wildcards.find(([s]) => s === suffix)?.[1];
        if (owner === route.name) continue;
        if (owner !== undefined) clashes.push(host);
        else this.#wildcards.push([suffix, route.name]);
        // Longest suffix first, so the most specific wildcard wins.
        this.#wildcards.sort((a, b) => b[0].length - a[0].length);
      } else {
        const owner = this.#exact.get(host);
        if (owner === undefined) this.#exact.set(host, route.name);
        else if (owner !== route.name) clashes.push(host);
      }
    }
    return clashes;
  }

  /** The app for a Host header value (port and trailing dot ignored), or the default app. */
  match(hostHeader: string | null | undefined): string | undefined {
    if (!hostHeader) return this.#fallback;
    let host = hostHeader.toLowerCase();
    if (host.startsWith("[")) host = host.slice(0, host.indexOf("]") + 1);
    else {
      const colon = host.lastIndexOf(":");
      if (colon >= 0) host = host.slice(0, colon);
    }
    if (host.endsWith(".")) host = host.slice(0, -1);
    const exact = this.#exact.get(host);
    if (exact !== undefined) return exact;
    for (const [suffix, name] of this.#wildcards) {
      if (host.endsWith(suffix) && host.length > suffix.length) return name;
    }
    return this.#fallback;
  }
}
