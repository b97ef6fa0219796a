// The registry's write path (OCI distribution spec, "push"): a blob's existence (HEAD),
// cross-repository mounts (POST ?mount=&from=), uploads (POST for a session, then one
// PUT ?digest= with the bytes, or PATCH chunks with Content-Range and an empty PUT), and
// manifests (PUT by digest or tag). Each answer is checked; a refusal is one line.
import { ContainerError } from "../runtime/errors";
import { Denied, RegistryError, registryError, type Registry } from "./registry";

/** PATCH requests carry at most this much (more if the registry asks for a larger minimum). */
export const CHUNK = 8 << 20;

export interface Pushed {
  digest: string;
  size: number;
}

/** The scope a push needs on `repo`, and read access to where blobs are mounted from. */
export function pushScope(repo: string, mountFrom?: string): string {
  return `repository:${repo}:pull,push${mountFrom !== undefined && mountFrom !== repo ? ` repository:${mountFrom}:pull` : ""}`;
}

/** A refusal (or any unexpected answer) of a write, as one line naming the registry's words. */
async function failure(registry: Registry, res: Response, what: string, said?: { message: string }): Promise<Error> {
  const { message } = said ?? (await registryError(res));
  if (res.status === 401 || res.status === 403) return new Denied(`${what}: ${registry.host}: denied${registry.who()}: ${message}`);
  return new RegistryError(`${what}: ${message}`);
}

/** The blob's size if `repo` has it (HEAD), else null. */
export async function blobSize(registry: Registry, repo: string, digest: string): Promise<number | null> {
  const res = await registry.send("HEAD", `${repo}/blobs/${digest}`, pushScope(repo));
  await res.body?.cancel().catch(() => {});
  if (res.status === 404) return null;
  if (res.status >= 300 && res.status < 400) return Number(res.headers.get("content-length") ?? -1); // a redirect to storage: there
  if (!res.ok) throw await failure(registry, res, `blob ${digest}`);
  return Number(res.headers.get("content-length") ?? -1);
}

export async function manifestExists(registry: Registry, repo: string, digest: string, accept: string): Promise<boolean> {
  const res = await registry.send("HEAD", `${repo}/manifests/${digest}`, pushScope(repo), { accept });
  await res.body?.cancel().catch(() => {});
  if (res.status === 404) return false;
  if (!res.ok) throw await failure(registry, res, `manifest ${digest}`);
  return true;
}

/** Where an upload goes on: the Location of the last answer, relative to the request. */
function location(res: Response, requested: string): string {
  const loc = res.headers.get("location");
  if (!loc) throw new RegistryError(`upload: the registry's answer (HTTP ${res.status}) has no Location`);
  return new URL(loc, requested).href;
}

async function requestUrl(registry: Registry, repo: string, query: string): Promise<string> {
  return `${await registry.baseUrl()}/v2/${repo}/blobs/uploads/${query}`;
}

export type Mount = { mounted: true } | { mounted: false; session: Session };

/** Asks the registry to link `digest` from `from` into `repo`; when it cannot, the upload session it opened instead. */
export async function mountBlob(registry: Registry, repo: string, digest: string, from: string): Promise<Mount> {
  const url = await requestUrl(registry, repo, `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`);
  const res = await registry.send("POST", url, pushScope(repo, from), { "content-length": "0" });
  if (res.status === 201) {
    await res.body?.cancel().catch(() => {});
    return { mounted: true };
  }
  if (res.status !== 202) throw await failure(registry, res, `mount ${digest} from ${from}`);
  await res.body?.cancel().catch(() => {});
  return { mounted: false, session: new Session(registry, repo, location(res, url), minChunk(res)) };
}

function minChunk(res: Response): number {
  const min = Number(res.headers.get("oci-chunk-min-length") ?? 0);
  return Number.isSafeInteger(min) && min > 0 ? min : 0;
}

export async function startUpload(registry: Registry, repo: string): Promise<Session> {
  const url = await requestUrl(registry, repo, "");
  const res = await registry.send("POST", url, pushScope(repo), { "content-length": "0" });
  if (res.status !== 202) throw await failure(registry, res, `upload to ${repo}`);
  await res.body?.cancel().catch(() => {});
  return new Session(registry, repo, location(res, url), minChunk(res));
}

/** The registry no longer knows the upload session (expired, cancelled, or thrown away after a broken chunk). */
export class SessionLost extends RegistryError {}

/** Tries of one chunk (the first included), asking where the upload stands between them. */
const RESUME_ATTEMPTS = 4;

/** One upload session: chunks in order, then the digest that closes it. */
export class Session {
  private offset = 0;
  private readonly hasher = new Bun.CryptoHasher("sha256");
  /** Told when a chunk is tried again from where the registry says the upload stands. */
  onResume: ((why: string) => void) | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly repo: string,
    private url: string,
    /** OCI-Chunk-Min-Length: every chunk but the last at least this long. */
    readonly minChunk: number,
  ) {}

  /** Where the session goes on (so that another thread can carry it on). */
  get location(): string {
    return this.url;
  }

  /**
   * A PATCH of the next bytes, at the offset the registry confirms. A PATCH that fails
   * (no answer, a 5xx, a 416) is never simply sent again: the registry may have stored
   * part of it, and docker-registry appends whatever comes whatever its Content-Range
   * says. The upload URL is asked where the upload stands (GET: 204 with Range) and the
   * rest of the chunk goes from there, as the distribution spec describes, after a pause.
   * A session the registry no longer knows is SessionLost.
   */
  async patch(data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    const end = this.offset + data.length - 1;
    let held = this.offset;
    for (let attempt = 1; ; attempt++) {
      const headers = { "content-type": "application/octet-stream", "content-range": `${held}-${end}`, "content-length": String(end + 1 - held) };
      let res: Response | undefined;
      let why = "";
      try {
        res = await this.registry.send("PATCH", this.url, pushScope(this.repo), headers, data.subarray(held - this.offset), true);
      } catch (e) {
        // no answer: perhaps part of the chunk arrived
        if (!(e instanceof RegistryError) || e instanceof Denied) throw e;
        why = e.message;
      }
      if (res?.status === 202) {
        await res.body?.cancel().catch(() => {});
        // Range: 0-END is what the registry holds now; anything else is a broken upload
        const range = res.headers.get("range");
        if (range !== null && range !== `0-${end}` && !(range === `bytes=0-${end}`)) {
          throw new RegistryError(`upload to ${this.repo}: the registry holds bytes ${range}, not 0-${end}`);
        }
        this.url = location(res, this.url);
        break;
      }
      if (res) {
        if (res.status === 404) throw new SessionLost(`upload to ${this.repo}: ${(await registryError(res)).message}`);
        if (res.status !== 416 && res.status < 500) throw await failure(this.registry, res, `upload to ${this.repo}`);
        await res.body?.cancel().catch(() => {});
        why = `HTTP ${res.status}`;
      }
      if (attempt >= RESUME_ATTEMPTS) throw new RegistryError(`upload to ${this.repo}: ${why} (after ${attempt} attempts)`);
      this.onResume?.(`upload to ${this.repo}: ${why}; asking where it stands`);
      await Bun.sleep(250 * 2 ** attempt);
      held = await this.status();
      if (held < this.offset || held > end + 1) {
        throw new RegistryError(`upload to ${this.repo}: the registry holds bytes 0-${held - 1}; this upload can only go on from ${this.offset} to ${end}`);
      }
      if (held === end + 1) break; // all of it arrived; only the answer was lost
    }
    this.hasher.update(data);
    this.offset = end + 1;
  }

  /** Where the upload stands (GET: 204, Range 0-LAST): the number of bytes the registry holds. */
  private async status(): Promise<number> {
    const res = await this.registry.send("GET", this.url, pushScope(this.repo));
    if (res.status === 404) throw new SessionLost(`upload to ${this.repo}: ${(await registryError(res)).message}`);
    if (res.status !== 204 && res.status !== 200) throw await failure(this.registry, res, `upload to ${this.repo}`);
    await res.body?.cancel().catch(() => {});
    const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get("range") ?? "");
    if (!range) throw new RegistryError(`upload to ${this.repo}: the registry's upload status has no usable Range (${res.headers.get("range") ?? "none"})`);
    if (res.headers.get("location")) this.url = location(res, this.url);
    // "0-0" is what docker-registry says of an empty upload too
    const last = Number(range[1]);
    return last === 0 && this.offset === 0 ? 0 : last + 1;
  }

  /** Closes the upload with the content's digest (and any last bytes); returns what the registry now has. */
  async finish(last?: Uint8Array): Promise<Pushed> {
    if (last) this.hasher.update(last);
    const size = this.offset + (last?.length ?? 0);
    const digest = `sha256:${this.hasher.digest("hex")}`;
    const url = new URL(this.url);
    url.searchParams.set("digest", digest);
    const headers = { "content-type": "application/octet-stream", "content-length": String(last?.length ?? 0) };
    const res = await this.registry.send("PUT", url.href, pushScope(this.repo), headers, last ?? new Uint8Array(0));
    if (res.status !== 201) throw await failure(this.registry, res, `blob ${digest}`);
    await res.body?.cancel().catch(() => {});
    const said = res.headers.get("docker-content-digest");
    if (said !== null && said !== digest) throw new RegistryError(`blob ${digest}: the registry stored it as ${said}`);
    return { digest, size };
  }

  /** Gives the session up (best effort: the registry also expires it). */
  async cancel(): Promise<void> {
    await this.registry.send("DELETE", this.url, pushScope(this.repo)).then((r) => r.body?.cancel()).catch(() => {});
  }
}

/** Uploads bytes whose digest must be `digest` in one PUT (monolithic). */
export async function uploadBytes(registry: Registry, repo: string, data: Uint8Array, digest: string, session?: Session): Promise<void> {
  const s = session ?? (await startUpload(registry, repo));
  const got = await s.finish(data);
  if (got.digest !== digest) throw new ContainerError(`blob ${digest}: the bytes to push are ${got.digest}`);
}

/** New sessions a blob's upload may start after the registry dropped one (SessionLost). */
const RESTARTS = 2;

/**
 * Uploads a stream of unknown length in chunks (PATCH each, Content-Range), then closes it
 * with the digest computed on the way. `onBytes` hears the bytes confirmed so far. A chunk
 * that fails goes on from where the registry says the upload stands (Session.patch); if
 * the registry has thrown the session away, the blob starts again in a new one from the
 * first byte (`open` gives the same bytes again), `onRetry` told each time.
 */
export async function uploadStream(
  registry: Registry,
  repo: string,
  open: () => AsyncIterable<Uint8Array>,
  opts: { onBytes?: (n: number) => void; onRetry?: (why: string) => void; session?: Session } = {},
): Promise<Pushed> {
  for (let restart = 0; ; restart++) {
    const s = restart === 0 && opts.session ? opts.session : await startUpload(registry, repo);
    s.onResume = opts.onRetry;
    try {
      return await uploadChunks(s, open(), opts.onBytes);
    } catch (e) {
      if (!(e instanceof SessionLost) || restart >= RESTARTS) {
        await s.cancel();
        throw e;
      }
      opts.onRetry?.(`${e.message}: starting the blob again`);
    }
  }
}

async function uploadChunks(s: Session, source: AsyncIterable<Uint8Array>, onBytes?: (n: number) => void): Promise<Pushed> {
  const size = Math.max(CHUNK, s.minChunk);
  let parts: Uint8Array[] = [];
  let held = 0;
  let sent = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    held += chunk.length;
    while (held >= size) {
      // exactly `size` bytes a PATCH; the rest waits for the next
      const data = Buffer.concat(parts, held);
      await s.patch(data.subarray(0, size));
      sent += size;
      onBytes?.(sent);
      parts = held > size ? [data.subarray(size)] : [];
      held -= size;
    }
  }
  // the last bytes in the closing PUT: one request fewer, and a small blob is one PUT
  const pushed = await s.finish(held > 0 ? Buffer.concat(parts) : undefined);
  onBytes?.(pushed.size);
  return pushed;
}

/** PUTs a manifest (or index) under `reference` (a tag or its digest). */
export async function putManifest(registry: Registry, repo: string, reference: string, body: Uint8Array, mediaType: string, digest: string): Promise<void> {
  const res = await registry.send("PUT", `${repo}/manifests/${reference}`, pushScope(repo), { "content-type": mediaType, "content-length": String(body.length) }, body);
  if (res.status !== 201 && res.status !== 200) {
    const said = await registryError(res);
    if (said.code === "MANIFEST_BLOB_UNKNOWN" || said.code === "BLOB_UNKNOWN") throw new RegistryError(`manifest ${digest}: the registry lacks a blob it refers to (${said.message})`);
    throw await failure(registry, res, `manifest ${digest}`, said);
  }
  await res.body?.cancel().catch(() => {});
  const said = res.headers.get("docker-content-digest");
  if (said !== null && said !== digest) throw new RegistryError(`manifest ${digest}: the registry stored it as ${said}`);
}
