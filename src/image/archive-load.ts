// `mycr load`: images from a docker-archive (manifest.json: Config, RepoTags, Layers) or an
// oci-archive (oci-layout, index.json, blobs/sha256). Everything is verified as a pull
// verifies it: blob digests and sizes against their descriptors, each layer's uncompressed
// content against the config's diff id; the image id is the config's digest.
import { ContainerError } from "../runtime/errors";
import { unlock } from "../sys";
import { ArchiveReader } from "./archive-reader";
import { imageName, layerManifest, recordImage } from "./commit";
import { pruneStore } from "./images";
import { parseJson } from "./json";
import { ensureLayerFrom } from "./layer-stream";
import { formatPlatform, hostPlatform, selectManifest } from "./platform";
import { ImageStore, chainIds, hex, sha256 } from "./store";
import { MEDIA, type Descriptor, type ImageConfig, type Index, type Manifest } from "./types";

export interface LoadedImage {
  /** Normalised names; none for an untagged image. */
  names: string[];
  id: string;
}

export interface LoadOptions {
  say?: (message: string) => void;
}

interface DockerEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/**
 * The name an oci-archive gives a manifest: docker's `io.containerd.image.name`, else
 * `org.opencontainers.image.ref.name`, which skopeo and podman set to a tag or a name;
 * one without a registry is put under localhost/, as podman does.
 */
function ociName(annotations: Record<string, string> | undefined): string[] {
  const full = annotations?.["io.containerd.image.name"];
  if (full) return [imageName(full, "index.json io.containerd.image.name")];
  const ref = annotations?.["org.opencontainers.image.ref.name"];
  if (!ref) return [];
  const first = ref.split("/")[0]!;
  const hasRegistry = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return [imageName(hasRegistry ? ref : `localhost/${ref}`, "index.json org.opencontainers.image.ref.name")];
}

function parseConfig(bytes: Uint8Array, where: string, layers: number): { config: ImageConfig; diffIds: string[] } {
  let config: ImageConfig;
  try {
    config = JSON.parse(new TextDecoder().decode(bytes)) as ImageConfig;
  } catch {
    throw new ContainerError(`${where}: not valid JSON`);
  }
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.some((d) => typeof d !== "string" || !/^sha256:[a-f0-9]{64}$/.test(d))) {
    throw new ContainerError(`${where}: rootfs.diff_ids is not a list of sha256 digests`);
  }
  if (diffIds.length !== layers) throw new ContainerError(`${where}: ${diffIds.length} diff ids for ${layers} layers`);
  return { config, diffIds };
}

async function loadDocker(store: ImageStore, archive: ArchiveReader, say: (m: string) => void): Promise<LoadedImage[]> {
  const entries = archive.json<DockerEntry[]>("manifest.json");
  if (!Array.isArray(entries) || entries.some((e) => typeof e?.Config !== "string" || !Array.isArray(e.Layers) || e.Layers.some((l) => typeof l !== "string"))) {
    throw new ContainerError("manifest.json: not a docker-archive manifest (a list of {Config, RepoTags, Layers})");
  }
  // Every name checked before any work is done.
  const named = entries.map((e) => ({ e, names: (e.RepoTags ?? []).map((t) => imageName(t, "manifest.json RepoTags")) }));
  const loaded: LoadedImage[] = [];
  for (const { e, names } of named) {
    const configBytes = archive.read(e.Config);
    const id = sha256(configBytes);
    const { diffIds } = parseConfig(configBytes, e.Config, e.Layers.length);
    const chains = chainIds(diffIds);
    const sizes: number[] = [];
    for (const [i, layer] of e.Layers.entries()) {
      if (!store.hasLayer(chains[i]!)) say(`loading layer ${hex(diffIds[i]!).slice(0, 12)}`);
      sizes.push(await ensureLayerFrom(store, chains[i]!, () => archive.stream(layer), { diffId: diffIds[i]! }, `layer ${layer}`));
    }
    store.putBlob(id, configBytes);
    const manifest = layerManifest({ digest: id, size: configBytes.length }, diffIds.map((d, i) => ({ diffId: d, size: sizes[i]! })));
    store.putBlob(manifest.digest, manifest.bytes);
    await recordImage(store, { digest: manifest.digest, manifest: manifest.digest, config: id, layers: chains }, names);
    loaded.push({ names, id });
  }
  return loaded;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function blobName(desc: Descriptor, where: string): string {
  if (typeof desc?.digest !== "string" || !DIGEST.test(desc.digest)) throw new ContainerError(`${where}: digest "${String(desc?.digest)}" is not a sha256 digest`);
  return `blobs/sha256/${hex(desc.digest)}`;
}

/** A small blob, verified against its descriptor. */
function verifiedBlob(archive: ArchiveReader, desc: Descriptor, where: string): Uint8Array {
  const bytes = archive.read(blobName(desc, where));
  const got = sha256(bytes);
  if (got !== desc.digest) throw new ContainerError(`${where} ${desc.digest}: digest mismatch: the archive holds ${got}`);
  if (typeof desc.size === "number" && desc.size !== bytes.length) throw new ContainerError(`${where} ${desc.digest}: ${bytes.length} bytes, not the ${desc.size} its descriptor says`);
  return bytes;
}

function isIndex(desc: Descriptor, body: object): boolean {
  return desc.mediaType === MEDIA.ociIndex || desc.mediaType === MEDIA.dockerList || "manifests" in body;
}

async function loadOci(store: ImageStore, archive: ArchiveReader, say: (m: string) => void): Promise<LoadedImage[]> {
  if (!archive.has("oci-layout")) throw new ContainerError("index.json without oci-layout: not an oci-archive");
  const index = archive.json<Index>("index.json");
  if (!Array.isArray(index?.manifests)) throw new ContainerError("index.json: no manifests list");
  const named = index.manifests.map((d) => ({ d, names: ociName(d.annotations) }));
  const loaded: LoadedImage[] = [];
  for (const { d, names } of named) {
    const top = verifiedBlob(archive, d, "manifest");
    let manifestDesc = d;
    let manifestBytes = top;
    const topDoc = parseJson<object>(top, `manifest ${d.digest}`);
    if (isIndex(d, topDoc)) {
      const want = hostPlatform();
      const nested = (topDoc as Index).manifests ?? [];
      const chosen = selectManifest(nested, want);
      if (!chosen) {
        const offered = nested.filter((m) => m.platform && m.platform.os !== "unknown").map((m) => formatPlatform(m.platform!));
        throw new ContainerError(`index ${d.digest}: no image for ${formatPlatform(want)} (the archive has: ${offered.join(", ") || "none"})`);
      }
      manifestDesc = chosen;
      manifestBytes = verifiedBlob(archive, chosen, "manifest");
    }
    const manifest = parseJson<Manifest>(manifestBytes, `manifest ${manifestDesc.digest}`);
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new ContainerError(`manifest ${manifestDesc.digest}: not an image manifest`);
    const configBytes = verifiedBlob(archive, manifest.config, "config");
    const { diffIds } = parseConfig(configBytes, `config ${manifest.config.digest}`, manifest.layers.length);
    const chains = chainIds(diffIds);
    for (const [i, layer] of manifest.layers.entries()) {
      const name = blobName(layer, "layer");
      if (!store.hasLayer(chains[i]!)) say(`loading layer ${hex(layer.digest).slice(0, 12)}`);
      await ensureLayerFrom(store, chains[i]!, () => archive.stream(name), { blobDigest: layer.digest, blobSize: layer.size, diffId: diffIds[i]! }, `layer ${layer.digest}`);
    }
    store.putBlob(manifest.config.digest, configBytes);
    store.putBlob(manifestDesc.digest, manifestBytes);
    if (manifestDesc !== d) store.putBlob(d.digest, top);
    await recordImage(store, { digest: d.digest, manifest: manifestDesc.digest, config: manifest.config.digest, layers: chains }, names);
    loaded.push({ names, id: manifest.config.digest });
  }
  return loaded;
}

/** Loads every image of the archive at `input` ("-": stdin). */
export async function loadArchive(store: ImageStore, input: string, opts: LoadOptions = {}): Promise<LoadedImage[]> {
  const say = opts.say ?? (() => {});
  const label = input === "-" ? "stdin" : input;
  // Held shared like a pull's: new layers are not referenced until the images are recorded.
  const pulls = await store.lock("pulls.lock", true);
  let archive: ArchiveReader | undefined;
  try {
    archive = await ArchiveReader.open(store, input);
    if (archive.has("manifest.json")) return await loadDocker(store, archive, say);
    if (archive.has("index.json")) return await loadOci(store, archive, say);
    throw new ContainerError("neither a docker-archive (manifest.json) nor an oci-archive (index.json)");
  } catch (e) {
    throw new ContainerError(`load ${label}: ${(e as Error).message}`);
  } finally {
    archive?.close();
    unlock(pulls);
    await pruneStore(store, false); // what a failed load unpacked goes
  }
}
