// Images made here rather than pulled (load, import, tag): their generated manifests,
// their records under names, and untagged images (recorded under their id, `sha256:…`,
// as images.ts isUntagged expects: shown as <none> <none>). A name that moves to another
// image leaves the old image untagged rather than deleting it, as docker does: it may
// exist nowhere else.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { formatReference, parseReference } from "./reference";
import { ImageStore, sha256, type ImageRecord } from "./store";
import { TAR_SPLIT, splitTarSize } from "./tar-split";
import { MEDIA } from "./types";

export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";

/** A name to record: a normalised reference with a tag (a digest cannot name a local image). */
export function imageName(text: string, where: string): string {
  let ref;
  try {
    ref = parseReference(text);
  } catch (e) {
    throw new ContainerError(`${where}: ${(e as Error).message}`);
  }
  if (ref.digest !== undefined) throw new ContainerError(`${where}: "${text}" names a digest; a local image is named with a tag`);
  return formatReference(ref);
}

/** An OCI manifest for a config and uncompressed layers (digest = diff id). */
export function layerManifest(config: { digest: string; size: number }, layers: { diffId: string; size: number }[]): { bytes: Uint8Array; digest: string } {
  const doc = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: OCI_LAYER_TAR, digest: l.diffId, size: l.size })),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(doc));
  return { bytes, digest: sha256(bytes) };
}

/** The uncompressed tar size of a stored layer, from its tar-split; undefined for a layer kept without one. */
export function layerTarSize(store: ImageStore, chainId: string): number | undefined {
  const split = join(store.layerDir(chainId), TAR_SPLIT);
  return existsSync(split) ? splitTarSize(split) : undefined;
}

/** Keeps an image whose name was taken, under its id, if no other record keeps it. */
function keepUntagged(images: ImageRecord[], removed: ImageRecord): void {
  if (!images.some((i) => i.config === removed.config)) images.push({ ...removed, name: removed.config });
}

/** Points `name` at the image; undefined adds it untagged unless the store already has the image. Call inside updateImages. */
export function setName(images: ImageRecord[], image: Omit<ImageRecord, "name">, name: string | undefined): void {
  if (name === undefined) {
    if (!images.some((i) => i.config === image.config)) images.push({ ...image, name: image.config });
    return;
  }
  const at = images.findIndex((i) => i.name === name);
  if (at >= 0) {
    const [old] = images.splice(at, 1);
    if (old!.config !== image.config) keepUntagged(images, old!);
  }
  images.push({ ...image, name });
  const untagged = images.findIndex((i) => i.name === image.config);
  if (untagged >= 0) images.splice(untagged, 1); // it has a name now
}

/** Records an image made locally under `names` (none: untagged); `extra` marks a build's intermediate images. */
export async function recordImage(store: ImageStore, image: Omit<ImageRecord, "name" | "size" | "pulled">, names: string[], extra: Pick<ImageRecord, "intermediate"> = {}): Promise<void> {
  const size = image.layers.reduce((sum, c) => sum + store.layerSize(c), 0);
  const record = { ...image, size, pulled: new Date().toISOString(), ...extra };
  await store.updateImages((images) => {
    if (names.length === 0) setName(images, record, undefined);
    for (const n of names) setName(images, record, n);
  });
}
