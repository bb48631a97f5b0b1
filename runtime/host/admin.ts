/**
 * The admin API: `deno task deploy --to URL` uploads a bundle here. Mount the handler at
 * `/_thaw/admin/`.
 *
 * - `PUT /_thaw/admin/apps/<name>`: body is `multipart/form-data`, one file field per bundle file,
 *   the field name being the file's path in the bundle (`manifest.json`, `module.wasm`,
 *   `app/app.yaml`, ...). Requires `Authorization: Bearer <token>`.
 * - `GET /_thaw/admin/apps`: the installed bundles' manifests.
 *
 * Answers: 401 for a missing or wrong token; 400 for a malformed bundle (with the reason); 413 when
 * the upload is too large; 201 with the manifest once installed. A bundle is written to a staging
 * directory, checked completely (hashes, module, journal identity), then moved into place and
 * handed to `activate`, so nothing is ever half-installed; the host switches new requests to the
 * new version while requests in flight finish on the old one.
 * @module
 */

import {
  BundleError,
  type BundleManifest,
  checkBundleFiles,
  moduleIdentity,
  safeRelativePath,
} from "../snapshot/mod.ts";
import { acceptJournal } from "../../journal/mod.ts";

/** Options of {@link createAdminHandler}. */
export interface AdminOptions {
  /** The bearer token uploads must present. */
  readonly token: string;
  /** Directory holding one bundle directory per app (`<appsDir>/<name>/`). */
  readonly appsDir: string;
  /**
   * Called once the new bundle is in place at `dir`; the host loads it and routes new requests to
   * it. The old version's directory is removed after this resolves.
   */
  readonly activate?: (name: string, dir: string, manifest: BundleManifest) => Promise<void>;
  /** Largest accepted upload in bytes. @default 1 GiB */
  readonly maxBytes?: number;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json" },
  });
}

function tokenMatches(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0 && expected.length > 0;
}

/**
 * Creates the admin API's fetch handler.
 *
 * @example
 * ```ts
 * const admin = createAdminHandler({ token: Deno.env.get("THAW_ADMIN_TOKEN")!, appsDir: "apps" });
 * // in the host router: if (url.pathname.startsWith("/_thaw/admin/")) return admin(req);
 * ```
 */
export function createAdminHandler(options: AdminOptions): (req: Request) => Promise<Response> {
  const maxBytes = options.maxBytes ?? 1 << 30;
  const locks = new Map<string, Promise<unknown>>();

  async function install(name: string, req: Request): Promise<Response> {
    const length = Number(req.headers.get("content-length") ?? "0");
    if (length > maxBytes) return json(413, { error: `Bundle larger than ${maxBytes} bytes` });
    let form: FormData;
    try {
      form = await req.formData();
    } catch (e) {
      return json(400, {
        error: `The body must be multipart/form-data with one field per bundle file: ${
          (e as Error).message
        }`,
      });
    }
    const files = new Map<string, Uint8Array>();
    let total = 0;
    for (const [path, value] of form.entries()) {
      if (!safeRelativePath(path)) return json(400, { error: `Unsafe bundle path "${path}"` });
      if (typeof value === "string") {
        return json(400, { error: `Field "${path}" must be a file` });
      }
      const bytes = new Uint8Array(await value.arrayBuffer());
      total += bytes.length;
      if (total > maxBytes) return json(413, { error: `Bundle larger than ${maxBytes} bytes` });
      files.set(path, bytes);
    }
    let manifest: BundleManifest;
    try {
      manifest = await checkBundleFiles(files);
      if (manifest.name !== name) {
        throw new BundleError(`The bundle is for app "${manifest.name}", uploaded as "${name}"`);
      }
      // A module the bundle does not ship (ruby.wasm) is identified by the Ruby runner at boot.
      const identity = manifest.module.shipped === false
        ? manifest.moduleIdentity
        : await moduleIdentity(files.get(manifest.module.file)!);
      if (identity === null || identity !== manifest.moduleIdentity) {
        throw new BundleError(`${manifest.module.file} is not the prepared module of this bundle`);
      }
      const verdict = acceptJournal(files.get(manifest.journal.file)!, {
        moduleHash: identity,
        configHash: manifest.configHash,
      });
      if (!verdict.ok) throw new BundleError(`${manifest.journal.file}: ${verdict.message}`);
    } catch (e) {
      if (e instanceof BundleError) return json(400, { error: e.message });
      throw e;
    }
    const staging = `${options.appsDir}/.staging-${name}-${crypto.randomUUID()}`;
    const target = `${options.appsDir}/${name}`;
    const previous = `${options.appsDir}/.previous-${name}-${crypto.randomUUID()}`;
    await Deno.mkdir(staging, { recursive: true });
    try {
      for (const [path, bytes] of files) {
        const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
        if (dir) await Deno.mkdir(`${staging}/${dir}`, { recursive: true });
        await Deno.writeFile(`${staging}/${path}`, bytes);
      }
    } catch (e) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw e;
    }
    let moved = false;
    try {
      await Deno.rename(target, previous);
      moved = true;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        await Deno.remove(staging, { recursive: true }).catch(() => {});
        throw e;
      }
    }
    try {
      await Deno.rename(staging, target);
    } catch (e) {
      if (moved) await Deno.rename(previous, target).catch(() => {});
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw e;
    }
    try {
      await options.activate?.(name, target, manifest);
    } catch (e) {
      // The host refused the new version: put the old one back so disk and host agree.
      await Deno.remove(target, { recursive: true }).catch(() => {});
      if (moved) await Deno.rename(previous, target).catch(() => {});
      return json(400, { error: `The host could not load the bundle: ${(e as Error).message}` });
    }
    if (moved) await Deno.remove(previous, { recursive: true }).catch(() => {});
    return json(201, { installed: name, manifest });
  }

  async function list(): Promise<Response> {
    const apps: BundleManifest[] = [];
    try {
      for await (const e of Deno.readDir(options.appsDir)) {
        if (!e.isDirectory || e.name.startsWith(".")) continue;
        try {
          apps.push(
            JSON.parse(await Deno.readTextFile(`${options.appsDir}/${e.name}/manifest.json`)),
          );
        } catch {
          // A plain app directory, not a bundle.
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return json(200, { apps });
  }

  return async (req: Request): Promise<Response> => {
    const auth = req.headers.get("authorization") ?? "";
    const given = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!tokenMatches(given, options.token)) {
      return json(401, { error: "Missing or wrong admin token (Authorization: Bearer <token>)" });
    }
    const path = new URL(req.url).pathname.replace(/^\/_thaw\/admin/, "");
    if (path === "/apps" && req.method === "GET") return await list();
    const m = /^\/apps\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(path);
    if (m && (req.method === "PUT" || req.method === "POST")) {
      const name = m[1];
      const prev = locks.get(name) ?? Promise.resolve();
      const run = prev.catch(() => {}).then(() => install(name, req));
      locks.set(name, run);
      try {
        return await run;
      } finally {
        if (locks.get(name) === run) locks.delete(name);
      }
    }
    return json(404, {
      error: `No admin route ${req.method} ${path}; use PUT /_thaw/admin/apps/<name>`,
    });
  };
}
