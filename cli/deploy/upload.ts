/**
 * Uploads a bundle directory to a host's admin API (`PUT /_thaw/admin/apps/<name>`), one
 * multipart file field per bundle file.
 * @module
 */

import { parseManifest, readBundleFiles } from "../../runtime/snapshot/mod.ts";

/** Options of {@link uploadBundle}. */
export interface UploadOptions {
  /** The host's base URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  /** The admin token. */
  readonly token: string;
}

/** The upload failed; `status` is the host's HTTP status (0 when unreachable). */
export class UploadError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = "UploadError";
    this.status = status;
  }
}

/**
 * Uploads the bundle in `dir`.
 *
 * @throws {UploadError} with the host's reason (401 bad token, 400 malformed bundle, ...).
 * @example
 * ```ts
 * await uploadBundle("out/hello", { url: "http://127.0.0.1:8000", token: "secret" });
 * ```
 */
export async function uploadBundle(
  dir: string,
  options: UploadOptions,
): Promise<{ name: string }> {
  const files = await readBundleFiles(dir);
  const manifestBytes = files.get("manifest.json");
  if (manifestBytes === undefined) {
    throw new UploadError(`${dir} is not a bundle (no manifest.json); run deno task deploy`, 0);
  }
  const manifest = parseManifest(new TextDecoder().decode(manifestBytes));
  const form = new FormData();
  for (const [path, bytes] of files) {
    form.append(path, new Blob([bytes as Uint8Array<ArrayBuffer>]), path);
  }
  const url = new URL(`/_thaw/admin/apps/${manifest.name}`, options.url);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "PUT",
      headers: { authorization: `Bearer ${options.token}` },
      body: form,
    });
  } catch (e) {
    throw new UploadError(`Cannot reach ${url.origin}: ${(e as Error).message}`, 0);
  }
  const text = await res.text();
  if (!res.ok) {
    let reason = text;
    try {
      reason = JSON.parse(text).error ?? text;
    } catch {
      // Not JSON: keep the text.
    }
    const hint = res.status === 401 ? " (check --token / THAW_ADMIN_TOKEN)" : "";
    throw new UploadError(`Upload refused with ${res.status}: ${reason}${hint}`, res.status);
  }
  return { name: manifest.name };
}
