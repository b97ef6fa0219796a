// Local images: finding one by name or id, removing one (and the layers no other image
// uses), and what `mycr run --image` needs from one: its lower dirs, held while in use.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
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

/** The name, or the short id of an untagged image. */
export function displayName(image: ImageRecord): string {
  return image.name || hex(image.config).slice(0, 12);
}

export function imageConfig(store: ImageStore, image: ImageRecord): ImageConfig {
  return JSON.parse(new TextDecoder().decode(store.readBlob(image.config))) as ImageConfig;
}

/**
 * Deletes what no image refers to: layers (unless a container holds them), blobs, short
 * links, and temp names of crashed pulls. Only while no pull runs (pulls hold "pulls.lock"
 * shared for their whole length): a pull's new layers are not in refs.json until it ends.
 * `wait` false: give up at once when a pull runs (the next rmi or pull tidies up).
 */
export async function pruneStore(store: ImageStore, wait: boolean): Promise<void> {
  const fd = wait ? await store.lock("pulls.lock") : tryLock(store.lockPath("pulls.lock"));
  if (fd === null) return;
  try {
    pruneUnlocked(store);
  } finally {
    unlock(fd);
  }
}

function pruneUnlocked(store: ImageStore): void {
  const images = store.images();
  const layers = new Set(images.flatMap((i) => i.layers.map(hex)));
  const blobs = new Set(images.flatMap((i) => [i.digest, i.manifest, i.config].map(hex)));
  const list = (d: string) => (existsSync(d) ? readdirSync(d) : []);
  for (const name of list(join(store.root, "layers"))) {
    if (layers.has(name)) continue;
    const fd = name.startsWith(".tmp-") ? -1 : tryLock(store.lockPath(`layer-${name}`));
    if (fd === null) continue; // a container still runs on it
    rmSync(join(store.root, "layers", name), { recursive: true, force: true });
    if (fd >= 0) unlock(fd);
  }
  for (const name of list(join(store.root, "blobs", "sha256"))) {
    if (!blobs.has(name)) rmSync(join(store.root, "blobs", "sha256", name), { force: true });
  }
  for (const name of list(join(store.root, "l"))) {
    if (!existsSync(join(store.root, "l", name))) rmSync(join(store.root, "l", name), { force: true }); // dangling
  }
}

/** Removes the name; then, if no other name refers to the image, its blobs and the layers nobody else shares. */
export async function removeImage(store: ImageStore, text: string): Promise<ImageRecord> {
  const pulls = await store.lock("pulls.lock");
  try {
    const image = await store.updateImages((images) => {
      const found = findImage(store, text);
      // untagged images all have the name "": the id tells them apart
      const at = found ? images.findIndex((i) => i.name === found.name && i.config === found.config) : -1;
      if (at < 0) throw new ContainerError(`rmi ${text}: no such image`);
      const image = images[at]!;
      const used = new Set(images.filter((_, n) => n !== at).flatMap((i) => i.layers));
      // A running container holds its layers' locks shared: an exclusive try proves none is in use.
      for (const l of image.layers.filter((l) => !used.has(l))) {
        const fd = tryLock(store.lockPath(`layer-${hex(l)}`));
        if (fd === null) throw new ContainerError(`rmi ${displayName(image)}: the image is in use by a container`);
        unlock(fd);
      }
      images.splice(at, 1);
      return image;
    });
    pruneUnlocked(store);
    return image;
  } finally {
    unlock(pulls);
  }
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
