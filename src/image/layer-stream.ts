// A layer from any byte stream (a member of a loaded archive, an imported root filesystem):
// compression found from its first bytes, the blob digest and the diff id computed on the
// way, the tar unpacked confined (unpack.ts) into a temp dir with its tar-split, and only
// then, verified, renamed to layers/CHAIN. The pipeline is unpack-stream.ts's, as pull's.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tryLock, unlock } from "../sys";
import { layerTarSize } from "./commit";
import { DigestMismatch } from "./layer";
import { ImageStore, hex, tempName } from "./store";
import { TAR_SPLIT } from "./tar-split";
import type { UnpackStats } from "./unpack";
import { decompressed, hashed, unpackCompressed } from "./unpack-stream";

export interface LayerCheck {
  /** Digest of the bytes as stored (compressed or not); verified when given. */
  blobDigest?: string;
  blobSize?: number;
  /** Digest of the uncompressed tar; verified when given. */
  diffId?: string;
}

export interface UnpackedLayer {
  tmp: string;
  diffId: string;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
  stats: UnpackStats;
}

/**
 * Unpacks a (possibly compressed) layer tar into a temp dir under layers/; `what` names it
 * in errors. The caller commits it (commitUnpacked) or removes `tmp`.
 */
export async function unpackToTemp(store: ImageStore, source: ReadableStream<Uint8Array>, check: LayerCheck, what: string): Promise<UnpackedLayer> {
  const tmp = tempName(store.dir("layers"), hex(check.diffId ?? check.blobDigest ?? "sha256:import"));
  const diff = join(tmp, "diff");
  mkdirSync(diff, { recursive: true, mode: 0o755 });
  try {
    const blobHasher = new Bun.CryptoHasher("sha256");
    const blobSize = { n: 0 };
    const { stats, digest: diffId, tarSize } = await unpackCompressed(hashed(source, blobHasher, blobSize), diff, what, join(tmp, TAR_SPLIT));
    const blob = `sha256:${blobHasher.digest("hex")}`;
    if (check.blobDigest !== undefined && blob !== check.blobDigest) throw new DigestMismatch(`${what}: digest mismatch: the content is ${blob}, not ${check.blobDigest}`);
    if (check.blobSize !== undefined && blobSize.n !== check.blobSize) throw new DigestMismatch(`${what}: ${blobSize.n} bytes, not the ${check.blobSize} its descriptor says`);
    if (check.diffId !== undefined && diffId !== check.diffId) throw new DigestMismatch(`${what}: diff id mismatch: the uncompressed content is ${diffId}, not ${check.diffId}`);
    return { tmp, diffId, tarSize, stats };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Makes an unpacked layer visible as `chainId`; returns false when the store has it
 * already (then the copy is dropped). Never waits on the layer's lock while the layer
 * exists: a running container holds that lock shared for as long as it runs, and the
 * caller may hold the store's pulls lock, which every rmi and prune waits for.
 */
export async function commitUnpacked(store: ImageStore, layer: UnpackedLayer, chainId: string): Promise<boolean> {
  try {
    for (;;) {
      if (store.hasLayer(chainId)) {
        rmSync(layer.tmp, { recursive: true, force: true });
        return false;
      }
      const fd = tryLock(store.lockPath(`layer-${hex(chainId)}`));
      if (fd === null) {
        await Bun.sleep(50); // another import or load is writing it: it will exist soon
        continue;
      }
      try {
        if (store.hasLayer(chainId)) continue; // committed while we took the lock
        writeFileSync(join(layer.tmp, "size"), String(layer.stats.bytes));
        store.commitLayer(chainId, layer.tmp);
        return true;
      } finally {
        unlock(fd);
      }
    }
  } catch (e) {
    rmSync(layer.tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Bytes of the uncompressed tar in a (possibly compressed) stream. */
async function tarSizeOf(source: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of (await decompressed(source)).tar) n += chunk.length;
  return n;
}

/**
 * Layer `chainId` from `open()` unless the store has it (one process at a time per layer,
 * as pull does). Returns the size of its uncompressed tar, for the manifest.
 */
export async function ensureLayerFrom(store: ImageStore, chainId: string, open: () => ReadableStream<Uint8Array>, check: LayerCheck, what: string): Promise<number> {
  const existing = async () => layerTarSize(store, chainId) ?? (await tarSizeOf(open()));
  if (store.hasLayer(chainId)) return existing();
  const fd = await store.lock(`layer-${hex(chainId)}`);
  try {
    if (store.hasLayer(chainId)) return existing();
    const layer = await unpackToTemp(store, open(), check, what);
    try {
      writeFileSync(join(layer.tmp, "size"), String(layer.stats.bytes));
      store.commitLayer(chainId, layer.tmp);
    } catch (e) {
      rmSync(layer.tmp, { recursive: true, force: true });
      throw e;
    }
    return layer.tarSize;
  } finally {
    unlock(fd);
  }
}
