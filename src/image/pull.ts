// `mycr pull`: reference -> manifest (through an index for the wanted platform) -> config
// -> layers, each downloaded and unpacked at most once however many pulls run at a time.
import { ContainerError } from "../runtime/errors";
import { unlock } from "../sys";
import { findCredentials } from "./auth";
import { downloadBlob } from "./layer";
import { LayerPool } from "./layer-pool";
import { pruneStore } from "./images";
import { parseJson } from "./json";
import { inParallel } from "./parallel";
import type { PullProgress } from "./progress";
import { formatPlatform, hostPlatform, matches, selectManifest } from "./platform";
import { formatReference, manifestReference, parseReference, type Reference } from "./reference";
import { NotFound, Registry, RegistryError } from "./registry";
import { ImageStore, chainIds, hex, sha256, type ImageRecord } from "./store";
import { MEDIA, type Descriptor, type ImageConfig, type Index, type Manifest, type Platform } from "./types";

export interface PullOptions {
  platform?: Platform;
  tlsVerify?: boolean;
  /** Messages for the user (stderr): warnings, registry retries. */
  say?: (message: string) => void;
  /** Each layer's state as it changes, for progress bars or lines. */
  progress?: PullProgress;
}

/** Layers downloaded at the same time. */
const PARALLEL = 3;

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

/** Gets one layer into the store unless it is there; concurrent pulls take turns per layer. */
async function ensureLayer(store: ImageStore, pool: LayerPool, repo: string, desc: Descriptor, diffId: string, chainId: string, layer: number, progress: PullProgress, say: (m: string) => void, signal: AbortSignal): Promise<void> {
  if (store.hasLayer(chainId)) return progress({ kind: "exists", layer });
  const fd = await store.lock(`layer-${hex(chainId)}`);
  try {
    if (store.hasLayer(chainId)) return progress({ kind: "exists", layer }); // another pull finished it while we waited
    const started = performance.now();
    const total = desc.size;
    progress({ kind: "downloading", layer, bytes: 0, total });
    // Downloaded and unpacked in one pass: the bytes arriving are the progress of both.
    const stats = await pool.pull(
      repo, desc, diffId, chainId,
      (why) => progress({ kind: "retry", layer, why }),
      (bytes) => progress({ kind: "downloading", layer, bytes, total }),
      signal,
    );
    if (stats.skippedDevices.length > 0) say(`layer ${hex(desc.digest).slice(0, 12)}: left out ${stats.skippedDevices.length} device node(s) (${stats.skippedDevices.slice(0, 3).join(", ")})`);
    progress({ kind: "done", layer, size: total, seconds: (performance.now() - started) / 1000 });
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
    if (e instanceof NotFound) throw new ContainerError(`image not found: ${name} (${e.message})`);
    throw new ContainerError(`pull ${name}: ${(e as Error).message}`);
  } finally {
    opts.progress?.({ kind: "end" });
    unlock(pulls);
    // What a replaced tag or a failed pull left unreferenced goes, unless another pull runs.
    await pruneStore(store, false);
  }
}

async function pull(store: ImageStore, ref: Reference, name: string, opts: PullOptions): Promise<ImageRecord> {
  const say = opts.say ?? (() => {});
  const progress = opts.progress ?? (() => {});
  const want = opts.platform ?? hostPlatform();
  const credentials = findCredentials(ref.domain);
  const registry = new Registry(ref.domain, {
    tlsVerify: opts.tlsVerify,
    credentials,
    onRetry: (what, why) => say(`${what}: retrying (${why})`),
  });
  // the Worker starts now, so that its start-up overlaps the manifest and config requests
  const pool = new LayerPool(store, registry, { domain: ref.domain, tlsVerify: opts.tlsVerify, credentials }, say);
  pool.warm();
  let manifestDoc: Awaited<ReturnType<typeof fetchVerified>>;
  let top: Awaited<ReturnType<typeof fetchVerified>>;
  let manifest: Manifest;
  let chains: string[];
  try {
    top = await fetchVerified(registry, ref.path, manifestReference(ref), ref.digest);
    manifestDoc = top;
    if (isIndex(top.mediaType, top.body)) {
      const index = parseJson<Index>(top.body, "index");
      const chosen = selectManifest(index.manifests ?? [], want);
      if (!chosen) {
        const offered = (index.manifests ?? []).filter((m) => m.platform && m.platform.os !== "unknown").map((m) => formatPlatform(m.platform!));
        throw new RegistryError(`no image for ${formatPlatform(want)} (the image has: ${offered.join(", ") || "none"})`);
      }
      manifestDoc = await fetchVerified(registry, ref.path, chosen.digest, chosen.digest).catch((e: unknown) => {
        // the name was found: a manifest missing below its index is a broken image
        throw e instanceof NotFound ? new RegistryError(`manifest ${chosen.digest} of the index: ${e.message}`) : e;
      });
    }
    manifest = parseJson<Manifest>(manifestDoc.body, "manifest");
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new RegistryError(`manifest ${manifestDoc.digest}: not an image manifest (${manifestDoc.mediaType || "no media type"})`);

    if (!store.hasBlob(manifest.config.digest)) await downloadBlob(store, registry, ref.path, manifest.config);
    const config = parseJson<ImageConfig>(store.readBlob(manifest.config.digest), "image config");
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new RegistryError(`config ${manifest.config.digest}: ${diffIds.length} diff ids for ${manifest.layers.length} layers`);
    }
    if (config.architecture && config.os && !matches(want, { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) })) {
      const actual = `${config.os}/${config.architecture}${config.variant ? `/${config.variant}` : ""}`;
      // Asked for by name (docker's rule): refuse. The host's by default: it may still run (binfmt), so warn.
      if (opts.platform) throw new RegistryError(`the image is for ${actual} only, not ${formatPlatform(want)}`);
      say(`warning: the image is for ${actual}, not ${formatPlatform(want)}`);
    }
    chains = chainIds(diffIds);
    progress({ kind: "layers", layers: manifest.layers.map((l) => ({ id: hex(l.digest).slice(0, 12), size: l.size })) });
    chains.forEach((c, i) => store.hasLayer(c) && progress({ kind: "exists", layer: i }));
    await inParallel([...manifest.layers.keys()], PARALLEL, (i, signal) => ensureLayer(store, pool, ref.path, manifest.layers[i]!, diffIds[i]!, chains[i]!, i, progress, say, signal));
  } finally {
    pool.close();
  }
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
