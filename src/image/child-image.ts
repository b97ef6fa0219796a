// An image made on top of another (or on nothing: `FROM scratch`): what `commit` and each
// step of `build` produce. The new layer, if any, is a tar file (upper-tar.ts, or the
// files a COPY adds); it goes through the same confined unpack as a pulled layer and is
// kept with its tar-split, so `save` and `push` write it back byte for byte. The parent's
// config document is kept whole (fields mycr does not read stay), with the config body,
// rootfs and history updated; a config and an OCI manifest are stored as blobs.
import { closeSync, openSync, rmSync } from "node:fs";
import { unlock } from "../sys";
import type { ConfigBody } from "./changes";
import { layerManifest, layerTarSize, recordImage } from "./commit";
import { commitUnpacked, unpackToTemp } from "./layer-stream";
import { hostPlatform } from "./platform";
import { ImageStore, chainIds, sha256, tempName, type ImageRecord } from "./store";
import { TarWriter } from "./tar-writer";

/** An image's config document as stored: the fields mycr reads, and whatever else it carries. */
export interface ConfigDocument {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: ConfigBody;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [other: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ParentImage {
  /** Chain ids, bottom first. */
  layers: string[];
  config: ConfigDocument;
}

/** `FROM scratch`: no layers, the host's platform, an empty config. */
export function scratchImage(): ParentImage {
  const { os, architecture, variant } = hostPlatform();
  return { layers: [], config: { architecture, os, ...(variant ? { variant } : {}), config: {}, rootfs: { type: "layers", diff_ids: [] }, history: [] } };
}

export function parentOf(store: ImageStore, image: ImageRecord): ParentImage {
  return { layers: image.layers, config: JSON.parse(new TextDecoder().decode(store.readBlob(image.config))) as ConfigDocument };
}

export interface ChildRequest {
  parent: ParentImage;
  /** The new layer's tar; none for a step that only changes the config. */
  layerTar?: string;
  /** The config body the image gets (the parent's, changed). */
  body: ConfigBody;
  history: HistoryEntry;
  /** Told when the layer was in the store already. */
  onInfo?: (message: string) => void;
}

export interface ChildImage {
  record: Omit<ImageRecord, "name" | "size" | "pulled">;
  config: ConfigDocument;
  /** The new layer's diff id (undefined when the step made none). */
  diffId?: string;
}

/**
 * Stores the image `req` describes (layer, config, manifest); the caller holds the
 * store's "pulls.lock" shared until the image is recorded (a prune in between would take
 * the new layer, which no record names yet).
 */
export async function storeChildImage(store: ImageStore, req: ChildRequest): Promise<ChildImage> {
  const diffIds = [...req.parent.config.rootfs.diff_ids];
  let diffId: string | undefined;
  let tarSize = 0;
  if (req.layerTar !== undefined) {
    const layer = await unpackToTemp(store, Bun.file(req.layerTar).stream(), {}, "new layer");
    diffId = layer.diffId;
    tarSize = layer.tarSize;
    diffIds.push(diffId);
    const chain = chainIds(diffIds).at(-1)!;
    if (!(await commitUnpacked(store, layer, chain))) req.onInfo?.(`layer ${diffId.slice(7, 19)}: already exists`);
  }
  const layers = chainIds(diffIds);
  const created = req.history.created ?? new Date().toISOString();
  const { author } = req.history;
  const config: ConfigDocument = {
    ...req.parent.config,
    created,
    ...(author !== undefined ? { author } : {}),
    config: req.body,
    rootfs: { type: "layers", diff_ids: diffIds },
    history: [...(req.parent.config.history ?? []), { ...req.history, created, ...(diffId === undefined ? { empty_layer: true } : {}) }],
  };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const id = sha256(configBytes);
  store.putBlob(id, configBytes);
  const sizes = layers.map((chain, i) => ({ diffId: diffIds[i]!, size: i === layers.length - 1 && diffId !== undefined ? tarSize : (layerTarSize(store, chain) ?? 0) }));
  const manifest = layerManifest({ digest: id, size: configBytes.length }, sizes);
  store.putBlob(manifest.digest, manifest.bytes);
  return { record: { digest: manifest.digest, manifest: manifest.digest, config: id, layers }, config, ...(diffId !== undefined ? { diffId } : {}) };
}

export interface MakeChild extends Omit<ChildRequest, "layerTar"> {
  /** Writes the new layer's entries and end marker; none: the step only changes the config. */
  writeLayer?: (tar: TarWriter) => Promise<void>;
  /** Names to record it under (none: untagged). */
  names: string[];
  /** A build's step rather than an image asked for. */
  intermediate?: boolean;
}

/** Writes the layer to a temp tar, stores the image and records it: commit's and build's one path. */
export async function makeChildImage(store: ImageStore, req: MakeChild): Promise<ChildImage> {
  const pulls = await store.lock("pulls.lock", true);
  const tar = req.writeLayer ? `${tempName(store.dir("layers"), "layer")}.tar` : undefined;
  try {
    if (tar !== undefined) {
      const fd = openSync(tar, "wx", 0o600);
      try {
        await req.writeLayer!(new TarWriter(fd));
      } finally {
        closeSync(fd);
      }
    }
    const child = await storeChildImage(store, { ...req, ...(tar !== undefined ? { layerTar: tar } : {}) });
    await recordImage(store, child.record, req.names, req.intermediate ? { intermediate: true } : {});
    return child;
  } finally {
    if (tar !== undefined) rmSync(tar, { force: true });
    unlock(pulls);
  }
}
