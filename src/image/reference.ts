// Image references, normalised the way docker does: `alpine` is
// docker.io/library/alpine:latest, `localhost:5000/x` keeps its registry, `@sha256:…` pins.
import { ContainerError } from "../runtime/errors";

export const DEFAULT_DOMAIN = "docker.io";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

export interface Reference {
  /** Registry host[:port] as written, docker.io for Docker Hub. */
  domain: string;
  /** Repository path inside the registry (library/alpine). */
  path: string;
  tag?: string;
  digest?: string;
}

/** `docker.io/library/alpine` */
export function repository(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full normalised name: repository plus `:tag` and/or `@digest`. */
export function formatReference(ref: Reference): string {
  return repository(ref) + (ref.tag !== undefined ? `:${ref.tag}` : "") + (ref.digest !== undefined ? `@${ref.digest}` : "");
}

/** What the registry is asked for: the digest when pinned, else the tag. */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? "latest";
}

export function parseReference(text: string): Reference {
  const bad = (why: string) => new ContainerError(`invalid image reference "${text}": ${why}`);
  if (text === "") throw bad("empty");
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad("a digest is sha256: and 64 lowercase hex digits");
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag "${tag}" is not valid`);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  // docker's rule: the first component names a registry if it looks like a host name.
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw bad(`registry "${domain}" is not a valid host[:port]`);
  }
  if (domain === "index.docker.io" || domain === "registry-1.docker.io") domain = DEFAULT_DOMAIN;
  if (path === "") throw bad("no repository name");
  if (path !== path.toLowerCase()) throw bad("repository names must be lowercase");
  for (const c of path.split("/")) if (!COMPONENT.test(c)) throw bad(`"${c}" is not a valid path component`);
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = `library/${path}`;
  if (path.length + domain.length + 1 > 255) throw bad("name longer than 255 characters");
  if (tag === undefined && digest === undefined) tag = "latest";
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** A registry as users write it for login/logout: `https://ghcr.io/`, `localhost:5000`, `index.docker.io`. */
export function registryName(text: string): string {
  const host = text.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
  if (host === "" || !DOMAIN.test(host)) throw new ContainerError(`"${text}" is not a registry host[:port]`);
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DEFAULT_DOMAIN : host;
}
