// Registry credentials: read from $REGISTRY_AUTH_FILE (podman's) and then
// ~/.docker/config.json (docker's); `mycr login` writes to $REGISTRY_AUTH_FILE when set,
// else to ~/.docker/config.json. Both use docker's format: {"auths": {"HOST": {"auth": base64("user:pass")}}},
// where "credHelpers" (per registry) or "credsStore" (all) may hand the secrets to a credential helper.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { writeFileAtomic } from "../runtime/atomic";
import { helperErase, helperGet, helperStore } from "./cred-helper";

export interface Credentials {
  username: string;
  password: string;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

function dockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG || join(process.env.HOME || homedir(), ".docker");
  return join(dir, "config.json");
}

/** The files credentials are read from, first match wins. */
export function authFiles(): string[] {
  const files: string[] = [];
  if (process.env.REGISTRY_AUTH_FILE) files.push(process.env.REGISTRY_AUTH_FILE);
  files.push(dockerConfigPath());
  return files;
}

/** Where `mycr login` stores credentials. */
export function loginFile(): string {
  return process.env.REGISTRY_AUTH_FILE || dockerConfigPath();
}

function readAuthFile(path: string): AuthFile {
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed as AuthFile;
  } catch (e) {
    throw new ContainerError(`credentials file ${path}: ${(e as Error).message}`);
  }
}

/** Keys an `auths` map may use for a registry: docker writes Docker Hub as its v1 URL. */
function keysFor(domain: string): string[] {
  if (domain === "docker.io") return ["docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"];
  return [domain, `https://${domain}`, `http://${domain}`];
}

/** docker's order: the registry's own helper, else the store for all registries. */
function helperFor(data: AuthFile, domain: string): string | undefined {
  for (const key of keysFor(domain)) {
    const helper = data.credHelpers?.[key];
    if (typeof helper === "string" && helper !== "") return helper;
  }
  return typeof data.credsStore === "string" && data.credsStore !== "" ? data.credsStore : undefined;
}

function decode(entry: { auth?: string; username?: string; password?: string }, where: string): Credentials | null {
  if (entry.auth) {
    const text = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = text.indexOf(":");
    if (colon < 0) throw new ContainerError(`${where}: "auth" is not base64 of USER:PASSWORD`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return null;
}

export function findCredentials(domain: string): Credentials | null {
  for (const file of authFiles()) {
    const data = readAuthFile(file);
    const helper = helperFor(data, domain);
    const fromHelper = helper !== undefined ? helperGet(helper, domain, file) : null;
    if (fromHelper) return fromHelper;
    const auths = data.auths ?? {};
    for (const key of keysFor(domain)) {
      const entry = auths[key];
      if (entry) {
        const creds = decode(entry, `credentials file ${file}: ${key}`);
        if (creds) return creds;
      }
    }
  }
  return null;
}

/** Where the secret went: the file, or the credential helper it names. */
export function storeCredentials(domain: string, creds: Credentials): string {
  const file = loginFile();
  const data = readAuthFile(file);
  const helper = helperFor(data, domain);
  const auths = { ...(data.auths ?? {}) };
  for (const key of keysFor(domain)) delete auths[key];
  if (helper !== undefined) helperStore(helper, domain, creds, file);
  // With a helper the file keeps an empty entry, as docker's does: it lists where we are logged in.
  auths[domain === "docker.io" ? "https://index.docker.io/v1/" : domain] =
    helper !== undefined ? {} : { auth: Buffer.from(`${creds.username}:${creds.password}`).toString("base64") };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, JSON.stringify({ ...data, auths }, null, "\t") + "\n", 0o600);
  return helper !== undefined ? `credential helper docker-credential-${helper}` : file;
}

/** Removes the registry's entry; false when there was none. */
export function removeCredentials(domain: string): boolean {
  const file = loginFile();
  const data = readAuthFile(file);
  const auths = { ...(data.auths ?? {}) };
  const helper = helperFor(data, domain);
  let found = helper !== undefined && helperErase(helper, domain, file);
  for (const key of keysFor(domain)) {
    if (key in auths) {
      delete auths[key];
      found = true;
    }
  }
  if (found) writeFileAtomic(file, JSON.stringify({ ...data, auths }, null, "\t") + "\n", 0o600);
  return found;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="https://auth",service="reg",scope="repository:x:pull"` (RFC 7235 auth-params). */
export function parseChallenge(header: string): Challenge {
  const m = /^\s*(\S+)\s*(.*)$/.exec(header);
  const scheme = (m?.[1] ?? "").toLowerCase();
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m?.[2] ?? ""); p; p = re.exec(m?.[2] ?? "")) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3]!;
  }
  return { scheme, params };
}

export function basicHeader(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}
