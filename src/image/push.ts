// `mycr push`: a stored image to a registry. Blobs first (config, then the layers, three
// at a time), the manifest last, only once the registry holds every blob it names, so a
// failed push leaves nothing that a pull of the name would get.
//
// Each layer goes by the cheapest way that keeps digests: the descriptor it was pulled
// with if the destination already has that blob (HEAD) or can mount it from a repository
// of the same registry where a stored image came from (POST ?mount=&from=); otherwise its
// tar is written again from the unpacked files and the tar-split (verified against the
// diff id) and uploaded gzip-compressed (layer-upload.ts), on the main thread or in the
// layer Worker, whichever has fewer bytes to do (layer-pool.ts). When no layer had to be recompressed the pulled
// manifest is pushed byte for byte, so its digest is the one it was pulled with.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { writeFileAtomic } from "../runtime/atomic";
import { findCredentials } from "./auth";
import { findImage, holdLayers, isUntagged } from "./images";
import { parseJson } from "./json";
import { LayerPool } from "./layer-pool";
import { layerTar } from "./layer-tar";
import type { PullProgress } from "./progress";
import { formatReference, parseReference, repository, type Reference } from "./reference";
import { inParallel } from "./parallel";
import { Registry } from "./registry";
import { ImageStore, hex, sha256, type ImageRecord } from "./store";
import { MEDIA, type Descriptor, type ImageConfig, type Index, type Manifest } from "./types";
import { blobSize, manifestExists, mountBlob, putManifest, uploadBytes, type Session } from "./upload";

export interface PushOptions {
  tlsVerify?: boolean;
  say?: (message: string) => void;
  progress?: PullProgress;
}

export interface PushResult {
  /** The destination, normalised. */
  name: string;
  /** Digest of what the tag now names (the manifest, or the index pushed with it). */
  digest: string;
}

const PARALLEL = 3;
const GZIP_LAYER = { oci: "application/vnd.oci.image.layer.v1.tar+gzip", docker: "application/vnd.docker.image.rootfs.diff.tar.gzip" } as const;
/** Beside a layer: the gzip blob mycr made of it last time, so a push can ask for it before compressing. */
const GZIP_RECORD = "gzip.json";

/** podman's other transports, which a destination may name (`oci:DIR`, `docker-archive:FILE`). */
const OTHER_TRANSPORTS = ["oci", "oci-archive", "docker-archive", "dir", "containers-storage", "docker-daemon"];

/** The local image and where it goes: DEST, else the image's own name. */
function destination(record: ImageRecord, source: string, dest: string | undefined): Reference {
  const transport = dest !== undefined ? /^([a-z-]+):/.exec(dest)?.[1] : undefined;
  if (transport !== undefined && OTHER_TRANSPORTS.includes(transport)) {
    throw new ContainerError(`push: destination "${dest}": only a registry (docker://) can be pushed to; for archives use mycr save`);
  }
  const text = dest?.replace(/^docker:\/\//, "");
  if (text === undefined && isUntagged(record)) throw new ContainerError(`push: image ${source} has no name: give the destination (mycr push ${source} REGISTRY/REPO:TAG)`);
  const ref = parseReference(text ?? record.name);
  if (ref.digest !== undefined) throw new ContainerError(`push: "${text ?? record.name}" names a digest; push to a tag`);
  return ref;
}

export async function pushImage(store: ImageStore, source: string, dest: string | undefined, opts: PushOptions = {}): Promise<PushResult> {
  const record = findImage(store, source);
  if (!record) throw new ContainerError(`push: no such image: ${source}`);
  const ref = destination(record, source, dest);
  const name = formatReference(ref);
  // held as a running container holds them: rmi cannot take the layers away mid-push
  const release = await holdLayers(store, record);
  try {
    return { name, digest: await push(store, record, ref, opts) };
  } catch (e) {
    throw new ContainerError(`push ${name}: ${(e as Error).message}`);
  } finally {
    opts.progress?.({ kind: "end" });
    release();
  }
}

interface Layer {
  index: number;
  chainId: string;
  diffId: string;
  /** The descriptor in the stored manifest (pulled: as the registry had it; local: the uncompressed tar). */
  original: Descriptor;
}

async function push(store: ImageStore, record: ImageRecord, ref: Reference, opts: PushOptions): Promise<string> {
  const say = opts.say ?? (() => {});
  const progress = opts.progress ?? (() => {});
  const credentials = findCredentials(ref.domain);
  const registry = new Registry(ref.domain, {
    tlsVerify: opts.tlsVerify,
    credentials,
    onRetry: (what, why) => say(`${what}: retrying (${why})`),
  });
  const repo = ref.path;
  const manifestBytes = store.readBlob(record.manifest);
  const manifest = parseJson<Manifest & Record<string, unknown>>(manifestBytes, "manifest");
  const configBytes = store.readBlob(record.config);
  const diffIds = parseJson<ImageConfig>(configBytes, "image config").rootfs?.diff_ids ?? [];
  const label = isUntagged(record) ? hex(record.config).slice(0, 12) : record.name;
  if (manifest.layers?.length !== record.layers.length || diffIds.length !== record.layers.length) {
    throw new ContainerError(`image ${label}: its manifest, config and layers disagree on the number of layers; pull or load it again`);
  }
  const layers: Layer[] = record.layers.map((chainId, index) => ({ index, chainId, diffId: diffIds[index]!, original: manifest.layers[index]! }));
  const tars = layers.map((l) => layerTar(store, l.chainId, l.diffId, label));
  progress({ kind: "layers", layers: layers.map((l, i) => ({ id: hex(l.original.digest).slice(0, 12), size: tars[i]!.size })) });

  if ((await blobSize(registry, repo, record.config)) === null) await uploadBytes(registry, repo, configBytes, record.config);
  const mountFrom = mountSources(store, ref);
  const kind = manifest.mediaType === MEDIA.dockerManifest ? "docker" : "oci";
  const pushed: Descriptor[] = new Array(layers.length);
  // recompressed layers gzip and upload on two cores, as a pull unpacks them
  const pool = new LayerPool(store, registry, { domain: ref.domain, tlsVerify: opts.tlsVerify, credentials }, say);
  try {
    await inParallel(layers, PARALLEL, async (l, signal) => {
      pushed[l.index] = await pushLayer(store, registry, repo, l, mountFrom, kind, progress, say, pool, tars[l.index]!.size, signal);
    });
  } finally {
    pool.close();
  }

  const same = pushed.every((d, i) => d.digest === layers[i]!.original.digest);
  const body = same ? manifestBytes : new TextEncoder().encode(JSON.stringify({ ...manifest, layers: pushed }));
  const mediaType = (manifest.mediaType as string | undefined) ?? MEDIA.ociManifest;
  const digest = sha256(body);
  const tag = ref.tag ?? "latest";
  if (same && record.digest !== record.manifest && store.hasBlob(record.digest)) {
    // pulled through an index: the index too, if the registry has every platform's manifest
    const index = store.readBlob(record.digest);
    const doc = parseJson<Index & { mediaType?: string }>(index, "index");
    await putManifest(registry, repo, digest, body, mediaType, digest);
    const missing = [];
    for (const m of doc.manifests ?? []) if (m.digest !== digest && !(await manifestExists(registry, repo, m.digest, m.mediaType))) missing.push(m.digest);
    if (missing.length === 0) {
      await putManifest(registry, repo, tag, index, doc.mediaType ?? MEDIA.ociIndex, record.digest);
      return record.digest;
    }
    say(`pushing this platform's manifest only: ${missing.length} other manifest(s) of the index ${hex(record.digest).slice(0, 12)} are neither in the store nor in ${repository(ref)}`);
  }
  await putManifest(registry, repo, tag, body, mediaType, digest);
  return digest;
}

/** Repositories of the destination registry that stored images came from, by chain id. */
function mountSources(store: ImageStore, dest: Reference): Map<string, { repo: string; desc: Descriptor }[]> {
  const out = new Map<string, { repo: string; desc: Descriptor }[]>();
  for (const image of store.images()) {
    if (isUntagged(image)) continue;
    let ref: Reference;
    try {
      ref = parseReference(image.name);
    } catch {
      continue;
    }
    if (ref.domain !== dest.domain || ref.path === dest.path || !store.hasBlob(image.manifest)) continue;
    const layers = parseJson<Manifest>(store.readBlob(image.manifest), "manifest").layers ?? [];
    image.layers.forEach((chainId, i) => {
      const desc = layers[i];
      if (!desc || desc.digest.startsWith("sha256:") === false) return;
      const list = out.get(chainId) ?? [];
      if (!list.some((c) => c.repo === ref.path && c.desc.digest === desc.digest)) list.push({ repo: ref.path, desc });
      out.set(chainId, list);
    });
  }
  return out;
}

function cachedGzip(store: ImageStore, chainId: string): { digest: string; size: number } | undefined {
  const path = join(store.layerDir(chainId), GZIP_RECORD);
  if (!existsSync(path)) return undefined;
  try {
    const r = JSON.parse(readFileSync(path, "utf8")) as { digest?: unknown; size?: unknown };
    return typeof r.digest === "string" && typeof r.size === "number" ? { digest: r.digest, size: r.size } : undefined;
  } catch {
    return undefined;
  }
}

async function pushLayer(
  store: ImageStore,
  registry: Registry,
  repo: string,
  l: Layer,
  mountFrom: Map<string, { repo: string; desc: Descriptor }[]>,
  kind: "oci" | "docker",
  progress: PullProgress,
  say: (message: string) => void,
  pool: LayerPool,
  tarSize: number,
  signal: AbortSignal,
): Promise<Descriptor> {
  const layer = l.index;
  const gzip = cachedGzip(store, l.chainId);
  const candidates: Descriptor[] = [l.original];
  if (gzip && gzip.digest !== l.original.digest) candidates.push({ mediaType: GZIP_LAYER[kind], ...gzip });
  for (const desc of candidates) {
    const size = await blobSize(registry, repo, desc.digest);
    if (size !== null && (size < 0 || size === desc.size)) {
      progress({ kind: "exists", layer });
      return desc;
    }
  }
  let session: Session | undefined;
  // the pulled blob first: mounting it keeps the manifest as it was
  const sources = [...(mountFrom.get(l.chainId) ?? [])].sort((a, b) => Number(b.desc.digest === l.original.digest) - Number(a.desc.digest === l.original.digest));
  for (const from of sources.slice(0, 3)) {
    const m = await mountBlob(registry, repo, from.desc.digest, from.repo);
    if (m.mounted) {
      progress({ kind: "mounted", layer, from: from.repo });
      return from.desc;
    }
    await session?.cancel();
    session = m.session; // the registry opened an upload instead: use it
  }
  const started = performance.now();
  progress({ kind: "downloading", layer, bytes: 0, total: tarSize });
  const upload = { chainId: l.chainId, diffId: l.diffId, tarSize, session: session && { url: session.location, minChunk: session.minChunk } };
  const blob = await pool.upload(repo, upload, say, (bytes) => progress({ kind: "downloading", layer, bytes, total: tarSize }), signal);
  writeFileAtomic(join(store.layerDir(l.chainId), GZIP_RECORD), JSON.stringify(blob) + "\n", 0o644);
  progress({ kind: "done", layer, size: blob.size, seconds: (performance.now() - started) / 1000 });
  return { mediaType: GZIP_LAYER[kind], digest: blob.digest, size: blob.size };
}
