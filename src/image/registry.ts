// A client for the OCI distribution API over fetch: https (plain http only for
// localhost/127.0.0.1/::1 or --tls-verify=false), anonymous, basic and bearer-token auth,
// redirects to blob storage without our credentials, retries with backoff. The write
// path (uploads, manifests) is upload.ts, on top of `send`.
import { ContainerError } from "../runtime/errors";
import { basicHeader, parseChallenge, type Credentials } from "./auth";
import { MEDIA } from "./types";

export interface RegistryOptions {
  /** false: accept any certificate and fall back to plain http (--tls-verify=false). */
  tlsVerify?: boolean;
  credentials?: Credentials | null;
  /** Called before a retry, so the CLI can say why it waits. */
  onRetry?: (what: string, why: string) => void;
}

export class RegistryError extends Error {}

/**
 * The registry has no such repository or tag: 404 for the manifest, or (Docker Hub's way
 * for a repository that does not exist or is private) 401 even with a token for the scope.
 */
export class NotFound extends RegistryError {}

/** The registry knew who we are and refused the operation (401/403 after authenticating). */
export class Denied extends RegistryError {}

const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest, MEDIA.dockerSchema1Signed, MEDIA.dockerSchema1].join(", ");
const ATTEMPTS = 4;

/** Connection failures that are answers, not accidents: reported at once, not retried. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: "connection refused (is it running, and on that port?)",
  ENOTFOUND: "no such host (check the name)",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network unreachable",
};
/** Failures that may pass (a resolver that did not answer in time): retried, then named. */
const UNREACHABLE_FOR_NOW: Record<string, string> = {
  EAI_AGAIN: "the DNS resolver gave no answer (check the network and /etc/resolv.conf)",
};
const MAX_REDIRECTS = 5;

function isLocal(host: string): boolean {
  const name = host.replace(/:\d+$/, "");
  return name === "localhost" || name === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** Docker Hub's API lives on another host than its name. */
function endpointHost(domain: string): string {
  return domain === "docker.io" ? "registry-1.docker.io" : domain;
}

function backoff(attempt: number): Promise<void> {
  return Bun.sleep(250 * 2 ** attempt + Math.random() * 100);
}

/** The first error a registry reported (`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`). */
export async function errorText(res: Response): Promise<string> {
  return (await registryError(res)).message;
}

/** The first error's code (`BLOB_UNKNOWN`, `DENIED`, …; "" when the body has none) and its message. */
export async function registryError(res: Response): Promise<{ code: string; message: string }> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    const first = body.errors?.[0];
    if (first) {
      // distribution names the missing blob in `detail` ({"digest": …} or the digest itself)
      const detail = first.detail as { digest?: unknown } | string | undefined;
      const digest = typeof detail === "string" ? detail : typeof detail?.digest === "string" ? detail.digest : "";
      const message = first.message || first.code || `HTTP ${res.status}`;
      return { code: first.code ?? "", message: digest && !message.includes(digest) ? `${message}: ${digest}` : message };
    }
  } catch {}
  return { code: "", message: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}` };
}

export class Registry {
  readonly host: string;
  private base: string | undefined;
  private authorization: string | undefined;
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly domain: string,
    private readonly opts: RegistryOptions = {},
  ) {
    this.host = endpointHost(domain);
  }

  private get insecure(): boolean {
    return this.opts.tlsVerify === false || isLocal(this.host);
  }

  private fetchOnce(url: string, init: RequestInit): Promise<Response> {
    const tls = this.opts.tlsVerify === false ? { tls: { rejectUnauthorized: false } } : {};
    return fetch(url, { ...init, redirect: "manual", ...tls });
  }

  /** https, or http where allowed and https does not answer (docker's order for insecure registries). */
  async baseUrl(): Promise<string> {
    if (this.base) return this.base;
    const https = `https://${this.host}`;
    if (!this.insecure) return (this.base = https);
    try {
      await this.fetchOnce(`${https}/v2/`, { signal: AbortSignal.timeout(10_000) });
      this.base = https;
    } catch {
      this.base = `http://${this.host}`;
    }
    return this.base;
  }

  /**
   * Sends once per attempt, retrying dropped connections, 429 and 5xx with backoff; with
   * `attempts` 1, a dropped connection is one RegistryError and a 5xx is returned.
   */
  private async withRetries(what: string, send: () => Promise<Response>, attempts = ATTEMPTS): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let why: string;
      try {
        const res = await send();
        if (res.status < 500 && res.status !== 429) return res;
        if (attempt + 1 >= attempts) return res;
        why = `HTTP ${res.status}`;
        await res.body?.cancel().catch(() => {});
      } catch (e) {
        if (e instanceof RegistryError || e instanceof ContainerError) throw e;
        const code = (e as { code?: string }).code ?? "";
        const unreachable = UNREACHABLE[code];
        // Nobody listening or no such host: asking again in a second will not change it.
        if (unreachable) throw new RegistryError(`cannot reach registry ${this.host}: ${unreachable}`);
        why = (e as Error).message;
        if (attempt + 1 >= attempts) {
          const forNow = UNREACHABLE_FOR_NOW[code];
          throw new RegistryError(forNow ? `cannot reach registry ${this.host}: ${forNow}` : `${this.host}: ${why}`);
        }
      }
      this.opts.onRetry?.(what, why);
      await backoff(attempt);
    }
  }

  private async token(challenge: Record<string, string>, scope: string): Promise<string> {
    const realm = challenge.realm;
    if (!realm) throw new RegistryError(`${this.host}: bearer challenge without a realm`);
    const url = new URL(realm);
    if (challenge.service) url.searchParams.set("service", challenge.service);
    // ours (a push asks for pull,push and, to mount, pull on the source) and the challenge's
    const wanted = new Set([...scope.split(" "), ...(challenge.scope ?? "").split(" ")].filter((s) => s !== ""));
    for (const s of wanted) url.searchParams.append("scope", s);
    const headers: Record<string, string> = {};
    if (this.opts.credentials) headers.authorization = basicHeader(this.opts.credentials);
    const res = await this.withRetries("token", () => this.fetchOnce(url.href, { headers, signal: AbortSignal.timeout(30_000) }));
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(`${url.host}: authentication failed${this.opts.credentials ? ` for user ${this.opts.credentials.username}` : " (no credentials: mycr login)"}`);
    }
    if (!res.ok) throw new RegistryError(`token from ${url.host}: ${await errorText(res)}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token || body.access_token;
    if (!token) throw new RegistryError(`token from ${url.host}: the answer holds no token`);
    return token;
  }

  /** Answers a 401: a bearer token for `scope`, or basic credentials. Returns false if nothing can be tried. */
  private async authenticate(res: Response, scope: string): Promise<boolean> {
    const header = res.headers.get("www-authenticate");
    if (!header) return false;
    const { scheme, params } = parseChallenge(header);
    if (scheme === "bearer") {
      const token = await this.token(params, scope);
      this.tokens.set(scope, token);
      return true;
    }
    if (scheme === "basic" && this.opts.credentials && this.authorization === undefined) {
      this.authorization = basicHeader(this.opts.credentials);
      return true;
    }
    return false;
  }

  /**
   * GET (or HEAD) `/v2/<path>` with auth for `scope`; follows redirects, sending
   * credentials only to the registry itself (blob storage gets signed URLs).
   */
  async get(path: string, scope: string, headers: Record<string, string> = {}, method = "GET"): Promise<Response> {
    const res = await this.send(method, path, scope, headers);
    const url = `${await this.baseUrl()}/v2/${path}`;
    return this.followRedirects(res, url, method, headers);
  }

  /**
   * One request to the registry with auth for `scope` (space-separated scopes): `target`
   * is a path under /v2/ or an absolute URL the registry gave (an upload's Location). A
   * 401 is answered once; the body must be bytes so it can be sent again. Redirects are
   * returned, not followed. `once`: no retry after a failure (an upload's chunk, of which
   * the registry may have stored part: sending it again would append it twice).
   */
  async send(method: string, target: string, scope: string, headers: Record<string, string> = {}, body?: Uint8Array, once = false): Promise<Response> {
    const base = await this.baseUrl();
    const url = /^https?:\/\//.test(target) ? target : `${base}/v2/${target}`;
    let authTried = false;
    for (;;) {
      const auth = this.tokens.get(scope) ? `Bearer ${this.tokens.get(scope)}` : this.authorization;
      const init = { method, headers: { ...headers, ...(auth ? { authorization: auth } : {}) }, ...(body ? { body } : {}) };
      const res = await this.withRetries(target, () => this.fetchOnce(url, init), once ? 1 : ATTEMPTS);
      if (res.status === 401 && !authTried) {
        authTried = true;
        await res.body?.cancel().catch(() => {});
        if (await this.authenticate(res, scope)) continue;
        throw new RegistryError(`${this.host}: authentication required${this.opts.credentials ? "" : " (no credentials: mycr login)"}`);
      }
      return res;
    }
  }

  /** Whoever we are, as the registry's refusals are phrased. */
  who(): string {
    return this.opts.credentials ? ` for user ${this.opts.credentials.username}` : "";
  }

  private async followRedirects(first: Response, url: string, method: string, headers: Record<string, string>): Promise<Response> {
    let res = first;
    for (let i = 0; res.status >= 300 && res.status < 400 && res.headers.get("location"); i++) {
      if (i >= MAX_REDIRECTS) throw new RegistryError(`${this.host}: too many redirects`);
      url = new URL(res.headers.get("location")!, url).href;
      await res.body?.cancel().catch(() => {});
      res = await this.withRetries(url, () => this.fetchOnce(url, { method, headers }));
    }
    if (res.status === 401 || res.status === 403) throw this.refused(res.status);
    return res;
  }

  /**
   * A refusal after authenticating: with a bearer token the registry knew who we are and
   * still said no, which is how Docker Hub answers for repositories that do not exist.
   */
  private refused(status: number): RegistryError {
    const who = this.who();
    if (this.tokens.size > 0) {
      const hint = this.opts.credentials ? `user ${this.opts.credentials.username} may not read it` : `it needs credentials: mycr login ${this.domain}`;
      return new NotFound(`the repository does not exist or ${hint}`);
    }
    if (status === 403) return new RegistryError(`${this.host}: access denied${who}`);
    return new RegistryError(`${this.host}: authentication failed${who || " (no credentials: mycr login)"}`);
  }

  /** Checks that the registry answers and the credentials are accepted (`mycr login`). */
  async ping(): Promise<void> {
    const res = await this.get("", "").catch((e: unknown) => {
      throw e instanceof NotFound ? new RegistryError(`${this.host}: access denied`) : e;
    });
    if (!res.ok) throw new RegistryError(`${this.host}: ${await errorText(res)}`);
    await res.body?.cancel().catch(() => {});
  }

  async manifest(repo: string, reference: string): Promise<{ body: Uint8Array; mediaType: string }> {
    const res = await this.get(`${repo}/manifests/${reference}`, `repository:${repo}:pull`, { accept: MANIFEST_ACCEPT });
    if (res.status === 404) throw new NotFound(await errorText(res));
    if (!res.ok) throw new RegistryError(await errorText(res));
    const body = new Uint8Array(await res.arrayBuffer());
    let mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    try {
      const declared = (JSON.parse(new TextDecoder().decode(body)) as { mediaType?: string }).mediaType;
      if (declared) mediaType = declared;
    } catch {
      throw new RegistryError(`manifest ${reference}: not JSON`);
    }
    return { body, mediaType };
  }

  /**
   * The blob's bytes as a response whose body the caller consumes (and verifies); from
   * byte `from` on with a Range request (206, or 200 with all of it from a registry or
   * storage that ignores ranges).
   */
  async blob(repo: string, digest: string, from = 0): Promise<Response> {
    const range: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {};
    const res = await this.get(`${repo}/blobs/${digest}`, `repository:${repo}:pull`, range).catch((e: unknown) => {
      throw e instanceof NotFound ? new RegistryError(`blob ${digest}: ${e.message}`) : e;
    });
    if (!res.ok) throw new RegistryError(`blob ${digest}: ${await errorText(res)}`);
    return res;
  }
}
