// `mycr pull`: reference -> manifest (through an index for the wanted platform) -> config
// -> layers, each downloaded and unpacked at most once however many pulls run at a time.
import { ContainerError } from "../runtime/errors";
import { unlock } from "../sys";
import { findCredentials } from "./auth";
import { downloadBlob, pullLayer } from "./layer";
import { pruneStore } from "./images";
import { formatPlatform, hostPlatform, matches, selectManifest } from "./platform";
import { formatReference, manifestReference, parseReference, type Reference } from "./reference";
import { Registry, RegistryError } from "./registry";
import { ImageStore, chainIds, hex, sha256, type ImageRecord } from "./store";
import { MEDIA, type Descriptor, type ImageConfig, type Index, type Manifest, type Platform } from "./types";

export interface PullOptions {
  platform?: Platform;
  tlsVerify?: boolean;
  /** Progress lines for the user (stderr). */
  say?: (message: string) => void;
}

/** Layers downloaded at the same time. */
const PARALLEL = 3;

function parseJson<T>(body: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(body)) as T;
  } catch {
    throw new RegistryError(`${what}: not valid JSON`);
  }
}

function refuseSchema1(mediaType: string, body: Uint8Array): void {
  const v = parseJson<{ schemaVersion?: number }>(body, "manifest").schemaVersion;
  if (mediaType === MEDIA.dockerSchema1 || mediaType === MEDIA.dockerSchema1Signed || v === 1) {
    throw new RegistryError("Docker schema 1 manifests are not supported (deprecated since 2017): push the image again with a current client");
  }
}

function isIndex(mediaType: string, body: Uint8Array): boolean {
  if (mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList) return true;
  return mediaType === "" && "manifests" in parseJson<object>(body, "manifest");
}

async function fetchVerified(registry: Registry, repo: string, reference: string, expect?: string) {
  const m = await registry.manifest(repo, reference);
  const digest = sha256(m.body);
  if (expect !== undefined && digest !== expect) throw new RegistryError(`manifest ${expect}: digest mismatch: the registry sent ${digest}`);
  refuseSchema1(m.mediaType, m.body);
  return { ...m, digest };
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(runners);
}

/** Gets one layer into the store unless it is there; concurrent pulls take turns per layer. */
async function ensureLayer(store: ImageStore, registry: Registry, repo: string, desc: Descriptor, diffId: string, chainId: string, say: (m: string) => void): Promise<void> {
  if (store.hasLayer(chainId)) return;
  const fd = await store.lock(`layer-${hex(chainId)}`);
  try {
    if (store.hasLayer(chainId)) return; // another pull finished it while we waited
    say(`layer ${hex(desc.digest).slice(0, 12)}: downloading ${desc.size} bytes`);
    const stats = await pullLayer(store, registry, repo, desc, diffId, chainId, (why) => say(`layer ${hex(desc.digest).slice(0, 12)}: retrying (${why})`));
    if (stats.skippedDevices.length > 0) say(`layer ${hex(desc.digest).slice(0, 12)}: left out ${stats.skippedDevices.length} device node(s) (${stats.skippedDevices.slice(0, 3).join(", ")})`);
  } finally {
    unlock(fd);
  }
}

export async function pullImage(store: ImageStore, text: string, opts: PullOptions = {}): Promise<ImageRecord> {
  const ref = parseReference(text);
  const name = formatReference(ref);
  // Held shared for the whole pull: rmi and pruning wait until no pull is between
  // "layer unpacked" and "image recorded" (see images.ts pruneStore).
  const pulls = await store.lock("pulls.lock", true);
  try {
    return await pull(store, ref, name, opts);
  } catch (e) {
    throw new ContainerError(`pull ${name}: ${(e as Error).message}`);
  } finally {
    unlock(pulls);
    // What a replaced tag or a failed pull left unreferenced goes, unless another pull runs.
    await pruneStore(store, false);
  }
}

async function pull(store: ImageStore, ref: Reference, name: string, opts: PullOptions): Promise<ImageRecord> {
  const say = opts.say ?? (() => {});
  const want = opts.platform ?? hostPlatform();
  const registry = new Registry(ref.domain, {
    tlsVerify: opts.tlsVerify,
    credentials: findCredentials(ref.domain),
    onRetry: (what, why) => say(`${what}: retrying (${why})`),
  });
  const top = await fetchVerified(registry, ref.path, manifestReference(ref), ref.digest);
  let manifestDoc = top;
  if (isIndex(top.mediaType, top.body)) {
    const index = parseJson<Index>(top.body, "index");
    const chosen = selectManifest(index.manifests ?? [], want);
    if (!chosen) {
      const offered = (index.manifests ?? []).filter((m) => m.platform && m.platform.os !== "unknown").map((m) => formatPlatform(m.platform!));
      throw new RegistryError(`no image for ${formatPlatform(want)} (the image has: ${offered.join(", ") || "none"})`);
    }
    manifestDoc = await fetchVerified(registry, ref.path, chosen.digest, chosen.digest);
  }
  const manifest = parseJson<Manifest>(manifestDoc.body, "manifest");
  if (!manifest.config || !Array.isArray(manifest.layers)) throw new RegistryError(`manifest ${manifestDoc.digest}: not an image manifest (${manifestDoc.mediaType || "no media type"})`);

  if (!store.hasBlob(manifest.config.digest)) await downloadBlob(store, registry, ref.path, manifest.config);
  const config = parseJson<ImageConfig>(store.readBlob(manifest.config.digest), "image config");
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new RegistryError(`config ${manifest.config.digest}: ${diffIds.length} diff ids for ${manifest.layers.length} layers`);
  }
  if (config.architecture && config.os && !matches(want, { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) })) {
    say(`warning: the image is for ${config.os}/${config.architecture}, not ${formatPlatform(want)}`);
  }
  const chains = chainIds(diffIds);
  await inParallel([...manifest.layers.keys()], PARALLEL, (i) => ensureLayer(store, registry, ref.path, manifest.layers[i]!, diffIds[i]!, chains[i]!, say));
  store.putBlob(manifestDoc.digest, manifestDoc.body);
  if (top !== manifestDoc) store.putBlob(top.digest, top.body);

  const size = chains.reduce((sum, c) => sum + store.layerSize(c), 0);
  const record: ImageRecord = { name, digest: top.digest, manifest: manifestDoc.digest, config: manifest.config.digest, layers: chains, size, pulled: new Date().toISOString() };
  await store.updateImages((images) => {
    const at = images.findIndex((i) => i.name === name);
    if (at >= 0) images[at] = record;
    else images.push(record);
  });
  return record;
}
