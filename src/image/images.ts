// Local images: finding one by name or id, removing one (and the layers no other image
// uses), and what `mycr run --image` needs from one: its lower dirs, held while in use.
import { rmSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { tryLock, unlock } from "../sys";
import { formatReference, parseReference } from "./reference";
import { ImageStore, hex, type ImageRecord } from "./store";
import type { ImageConfig } from "./types";

/** By reference (normalised), or by a prefix of the image id (config digest) of at least 6 hex digits. */
export function findImage(store: ImageStore, text: string): ImageRecord | undefined {
  const images = store.images();
  const id = text.startsWith("sha256:") ? text.slice(7) : text;
  if (/^[a-f0-9]{6,64}$/.test(id)) {
    const byId = images.filter((i) => hex(i.config).startsWith(id));
    if (byId.length > 0) return byId[0];
  }
  let name: string;
  try {
    name = formatReference(parseReference(text));
  } catch {
    return undefined;
  }
  return images.find((i) => i.name === name);
}

export function imageConfig(store: ImageStore, image: ImageRecord): ImageConfig {
  return JSON.parse(new TextDecoder().decode(store.readBlob(image.config))) as ImageConfig;
}

/** Removes the name; then, if no other name refers to the image, its blobs and the layers nobody else shares. */
export async function removeImage(store: ImageStore, text: string): Promise<ImageRecord> {
  return store.updateImages((images) => {
    const image = findImage(store, text);
    if (!image) throw new ContainerError(`rmi ${text}: no such image`);
    const others = images.filter((i) => i.name !== image.name);
    const usedLayers = new Set(others.flatMap((i) => i.layers));
    const orphans = image.layers.filter((l) => !usedLayers.has(l));
    // A running container holds its layers' locks shared: taking them all exclusively proves none is in use.
    const held: number[] = [];
    try {
      for (const l of orphans) {
        const fd = tryLock(store.lockPath(`layer-${hex(l)}`));
        if (fd === null) throw new ContainerError(`rmi ${image.name}: the image is in use by a container`);
        held.push(fd);
      }
      images.splice(images.indexOf(images.find((i) => i.name === image.name)!), 1);
      const blobsInUse = new Set(others.flatMap((i) => [i.digest, i.manifest, i.config]));
      for (const b of [image.digest, image.manifest, image.config]) if (!blobsInUse.has(b)) rmSync(store.blobPath(b), { force: true });
      for (const l of orphans) {
        rmSync(store.shortLink(l), { force: true });
        rmSync(store.layerDir(l), { recursive: true, force: true });
      }
    } finally {
      held.forEach(unlock);
    }
    return image;
  });
}

/** The overlay lower dirs of an image, top layer first (overlayfs order), through their short links. */
export function lowerDirs(store: ImageStore, image: ImageRecord): string[] {
  return [...image.layers].reverse().map((l) => store.shortLink(l));
}

/**
 * Holds the image's layers (shared locks) for as long as a container uses them, so `rmi`
 * cannot pull them from under it. Fails if a layer disappeared in the meantime.
 */
export async function holdLayers(store: ImageStore, image: ImageRecord): Promise<() => void> {
  const fds: number[] = [];
  const release = () => fds.splice(0).forEach(unlock);
  try {
    for (const l of image.layers) {
      fds.push(await store.lock(`layer-${hex(l)}`, true));
      if (!store.hasLayer(l)) throw new ContainerError(`image ${image.name}: layer ${l} is missing (removed meanwhile?); pull it again`);
    }
  } catch (e) {
    release();
    throw e;
  }
  return release;
}
