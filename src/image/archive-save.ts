// `mycr save`: images to a docker-archive (what `docker save` writes: manifest.json,
// CONFIG.json, one uncompressed tar per layer) or an oci-archive (oci-layout, index.json,
// blobs/sha256). Each layer tar is assembled again from its unpacked directory and its
// tar-split (tar-split.ts) and checked against the config's diff id as it is written:
// the image id and diff ids in the archive are the ones the image was pulled with.
import { closeSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { ContainerError } from "../runtime/errors";
import { layerManifest } from "./commit";
import { findImage, holdLayers, imageConfig, isUntagged } from "./images";
import { formatReference, parseReference } from "./reference";
import { ImageStore, hex, tempName, type ImageRecord } from "./store";
import { layerTar, verifiedLayer, type LayerTar } from "./layer-tar";
import { TarWriter } from "./tar-writer";
import { MEDIA } from "./types";

export type ArchiveFormat = "docker-archive" | "oci-archive";

interface SavedImage {
  record: ImageRecord;
  /** Names to write (those the user asked for by name). */
  names: string[];
  diffIds: string[];
  configBytes: Uint8Array;
}

type LayerFile = LayerTar;

/** The images asked for, by name (written with that name) or id (written without one, as docker does). */
function resolve(store: ImageStore, args: string[]): SavedImage[] {
  const byId = new Map<string, SavedImage>();
  for (const arg of args) {
    const record = findImage(store, arg);
    if (!record) throw new ContainerError(`no such image: ${arg}`);
    let name: string | undefined;
    try {
      const ref = parseReference(arg);
      if (ref.digest === undefined && formatReference(ref) === record.name) name = record.name;
    } catch {
      // an id
    }
    let image = byId.get(record.config);
    if (!image) {
      const config = imageConfig(store, record);
      const configBytes = store.readBlob(record.config);
      image = { record, names: [], diffIds: config.rootfs?.diff_ids ?? [], configBytes };
      byId.set(record.config, image);
    }
    if (name !== undefined && !image.names.includes(name)) image.names.push(name);
  }
  return [...byId.values()];
}

function layerFiles(store: ImageStore, image: SavedImage): LayerFile[] {
  const name = isUntagged(image.record) ? hex(image.record.config).slice(0, 12) : image.record.name;
  return image.record.layers.map((chainId, i) => layerTar(store, chainId, image.diffIds[i]!, name));
}

async function writeDocker(store: ImageStore, tar: TarWriter, images: SavedImage[], layers: LayerFile[][]): Promise<void> {
  const written = new Set<string>();
  const manifest = [];
  for (const [i, image] of images.entries()) {
    const files: string[] = [];
    for (const l of layers[i]!) {
      const name = `${hex(l.diffId)}.tar`;
      files.push(name);
      if (written.has(name)) continue;
      written.add(name);
      await tar.file(name, l.size, verifiedLayer(store, l));
    }
    const config = `${hex(image.record.config)}.json`;
    await tar.bytes(config, image.configBytes);
    manifest.push({ Config: config, RepoTags: image.names, Layers: files });
  }
  await tar.bytes("manifest.json", JSON.stringify(manifest));
}

async function writeOci(store: ImageStore, tar: TarWriter, images: SavedImage[], layers: LayerFile[][]): Promise<void> {
  await tar.bytes("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  tar.dir("blobs");
  tar.dir("blobs/sha256");
  const written = new Set<string>();
  const blob = async (digest: string, size: number, content: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>) => {
    if (written.has(digest)) return;
    written.add(digest);
    await tar.file(`blobs/sha256/${hex(digest)}`, size, content());
  };
  const entries = [];
  for (const [i, image] of images.entries()) {
    for (const l of layers[i]!) await blob(l.diffId, l.size, () => verifiedLayer(store, l));
    await blob(image.record.config, image.configBytes.length, () => [image.configBytes]);
    const manifest = layerManifest({ digest: image.record.config, size: image.configBytes.length }, layers[i]!.map((l) => ({ diffId: l.diffId, size: l.size })));
    await blob(manifest.digest, manifest.bytes.length, () => [manifest.bytes]);
    const desc = { mediaType: MEDIA.ociManifest, digest: manifest.digest, size: manifest.bytes.length };
    if (image.names.length === 0) entries.push(desc);
    // docker reads io.containerd.image.name, podman and skopeo org.opencontainers.image.ref.name
    for (const n of image.names) entries.push({ ...desc, annotations: { "io.containerd.image.name": n, "org.opencontainers.image.ref.name": n } });
  }
  await tar.bytes("index.json", JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: entries }));
}

export interface SaveOptions {
  format: ArchiveFormat;
  /** A file (written under a temp name, renamed when complete) or undefined for stdout. */
  output?: string;
}

/** Writes the images `args` (names or ids) as one archive. */
export async function saveImages(store: ImageStore, args: string[], opts: SaveOptions): Promise<void> {
  try {
    await save(store, args, opts);
  } catch (e) {
    throw new ContainerError(`save: ${(e as Error).message}`);
  }
}

async function save(store: ImageStore, args: string[], opts: SaveOptions): Promise<void> {
  const images = resolve(store, args);
  const releases: (() => void)[] = [];
  let tmp: string | undefined;
  let fd = 1;
  try {
    // Held like a running container holds them: rmi cannot take them away mid-save.
    for (const image of images) releases.push(await holdLayers(store, image.record));
    const layers = images.map((image) => layerFiles(store, image));
    if (opts.output !== undefined) {
      tmp = tempName(dirname(opts.output) || ".", "save");
      try {
        fd = openSync(tmp, "wx", 0o644);
      } catch (e) {
        tmp = undefined;
        const code = (e as NodeJS.ErrnoException).code;
        throw new ContainerError(`cannot create ${opts.output}: ${code === "ENOENT" ? "its directory does not exist" : code === "EACCES" ? "permission denied" : (e as Error).message}`);
      }
    }
    const tar = new TarWriter(fd);
    if (opts.format === "docker-archive") await writeDocker(store, tar, images, layers);
    else await writeOci(store, tar, images, layers);
    tar.end();
    if (tmp !== undefined) {
      closeSync(fd);
      fd = 1;
      renameSync(tmp, opts.output!);
      tmp = undefined;
    }
  } finally {
    if (fd !== 1) closeSync(fd);
    if (tmp !== undefined) rmSync(tmp, { force: true });
    for (const release of releases) release();
  }
}
