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

/** Bytes freed: what the removed layers held (blobs are small: manifests and configs). */
function pruneUnlocked(store: ImageStore): number {
  const images = store.images();
  const layers = new Set(images.flatMap((i) => i.layers.map(hex)));
  const blobs = new Set(images.flatMap((i) => [i.digest, i.manifest, i.config].map(hex)));
  const list = (d: string) => (existsSync(d) ? readdirSync(d) : []);
  let freed = 0;
  for (const name of list(join(store.root, "layers"))) {
    if (layers.has(name)) continue;
    const fd = name.startsWith(".tmp-") ? -1 : tryLock(store.lockPath(`layer-${name}`));
    if (fd === null) continue; // a container still runs on it
    freed += store.layerSize(`sha256:${name}`);
    rmSync(join(store.root, "layers", name), { recursive: true, force: true });
    if (fd >= 0) unlock(fd);
  }
  for (const name of list(join(store.root, "blobs", "sha256"))) {
    if (!blobs.has(name)) rmSync(join(store.root, "blobs", "sha256", name), { force: true });
  }
  for (const name of list(join(store.root, "l"))) {
    if (!existsSync(join(store.root, "l", name))) rmSync(join(store.root, "l", name), { force: true }); // dangling
  }
  return freed;
}

/** True when a running container uses the image (it holds the image's lock shared, see holdLayers). */
function inUse(store: ImageStore, config: string): boolean {
  const fd = tryLock(store.lockPath(`image-${hex(config)}`));
  if (fd === null) return true;
  unlock(fd);
  return false;
}

export interface RemoveOptions {
  /** docker's -f: remove every name of an id, and names of images containers still run on (their layers stay until those end). */
  force?: boolean;
}

/**
 * Removes a name (or, given an id, the image's names); then the blobs and layers nobody
 * refers to any more. Refuses an image a container runs on, unless forced.
 */
export async function removeImage(store: ImageStore, text: string, opts: RemoveOptions = {}): Promise<ImageRecord[]> {
  const pulls = await store.lock("pulls.lock");
  try {
    const removed = await store.updateImages((images) => {
      const image = findImage(store, text);
      if (!image) throw new ContainerError(`rmi ${text}: no such image`);
      const byId = image.name !== text && formatReferenceOrNull(text) !== image.name;
      const targets = byId ? images.filter((i) => i.config === image.config) : [image];
      if (targets.length > 1 && !opts.force) {
        throw new ContainerError(`rmi ${text}: the image has ${targets.length} names (${targets.map((t) => t.name).join(", ")}): remove them by name, or use -f`);
      }
      const names = new Set(targets.map((t) => t.name));
      // Taking one of several names is only untagging, in use or not (as docker).
      const lastName = !images.some((i) => i.config === image.config && !names.has(i.name));
      if (!opts.force && lastName && inUse(store, image.config)) {
        throw new ContainerError(`rmi ${image.name}: the image is in use by a running container (stop it first, or -f to remove the name now and the layers when it ends)`);
      }
      for (let i = images.length - 1; i >= 0; i--) if (names.has(images[i]!.name)) images.splice(i, 1);
      return targets;
    });
    pruneUnlocked(store);
    return removed;
  } finally {
    unlock(pulls);
  }
}

function formatReferenceOrNull(text: string): string | null {
  try {
    return formatReference(parseReference(text));
  } catch {
    return null;
  }
}

export interface PruneResult {
  removed: ImageRecord[];
  freed: number;
}

/**
 * `image prune`: images without a name (`all`: every image no running container uses),
 * then every layer, blob and temp name nothing refers to.
 */
export async function pruneImages(store: ImageStore, all: boolean): Promise<PruneResult> {
  const pulls = await store.lock("pulls.lock");
  try {
    const removed = await store.updateImages((images) => {
      const out: ImageRecord[] = [];
      for (let i = images.length - 1; i >= 0; i--) {
        const image = images[i]!;
        if (!(all || isUntagged(image)) || inUse(store, image.config)) continue;
        out.push(...images.splice(i, 1));
      }
      return out.reverse();
    });
    return { removed, freed: pruneUnlocked(store) };
  } finally {
    unlock(pulls);
  }
}

/** An image known only by its id (imported or loaded without a name): `<none>` in listings. */
export function isUntagged(image: ImageRecord): boolean {
  return image.name === "" || image.name.startsWith("sha256:");
}

/** The overlay lower dirs of an image, top layer first (overlayfs order), through their short links. */
export function lowerDirs(store: ImageStore, image: ImageRecord): string[] {
  return [...image.layers].reverse().map((l) => store.shortLink(l));
}

/**
 * Holds the image and its layers (shared locks) for as long as a container uses them, so
 * `rmi` refuses it and pruning cannot pull the layers from under it. Fails if a layer disappeared in the meantime.
 */
export async function holdLayers(store: ImageStore, image: ImageRecord): Promise<() => void> {
  const fds: number[] = [];
  const release = () => fds.splice(0).forEach(unlock);
  try {
    fds.push(await store.lock(`image-${hex(image.config)}`, true)); // "in use" for rmi and prune
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
