// A layer from any byte stream (a member of a loaded archive, an imported root filesystem):
// compression found from its first bytes, the blob digest and the diff id computed on the
// way, the tar unpacked confined (unpack.ts) into a temp dir with its tar-split, and only
// then, verified, renamed to layers/CHAIN. pull's own path is layer.ts (a blob on disk).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { unlock } from "../sys";
import { layerTarSize } from "./commit";
import { DigestMismatch } from "./layer";
import { ImageStore, hex, tempName } from "./store";
import { readTar } from "./tar";
import { TAR_SPLIT, TarSplitWriter } from "./tar-split";
import { unpackLayer, type UnpackStats } from "./unpack";

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

type Compression = "gzip" | "zstd" | "none";

/** Compression from the first bytes (media types and file names lie more often than bytes); all bytes passed on. */
async function peek(source: AsyncGenerator<Uint8Array>): Promise<{ compression: Compression; rest: AsyncGenerator<Uint8Array> }> {
  const head: Uint8Array[] = [];
  let have = 0;
  while (have < 4) {
    const r = await source.next();
    if (r.done) break;
    head.push(r.value);
    have += r.value.length;
  }
  const first = Buffer.concat(head);
  const compression: Compression = first[0] === 0x1f && first[1] === 0x8b ? "gzip" : first.length >= 4 && first.readUInt32LE(0) === 0xfd2fb528 ? "zstd" : "none";
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (first.length > 0) yield first;
    yield* source;
  }
  return { compression, rest: rest() };
}

function toStream(source: AsyncIterator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await source.next();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
  });
}

/** Passes the bytes on, hashed and counted. */
async function* hashed(source: AsyncIterable<Uint8Array>, hasher: Bun.CryptoHasher, total: { n: number }): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    hasher.update(chunk);
    total.n += chunk.length;
    yield chunk;
  }
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
    const { compression, rest } = await peek(hashed(source, blobHasher, blobSize));
    let tar: AsyncIterable<Uint8Array> = rest;
    if (compression !== "none") {
      tar = toStream(rest).pipeThrough(new DecompressionStream(compression as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
    }
    const tarHasher = new Bun.CryptoHasher("sha256");
    const tarSize = { n: 0 };
    const split = new TarSplitWriter(join(tmp, TAR_SPLIT));
    let stats: UnpackStats;
    try {
      stats = await unpackLayer(split.items(readTar(hashed(tar, tarHasher, tarSize), split.tap)), diff);
      split.finish();
    } catch (e) {
      let why = (e as Error).message.replace(/^layer: /, "");
      if (why.startsWith("tar header")) why = `not a tar archive (${why.replace(" (corrupt or not a tar)", "")})`;
      throw new ContainerError(`${what}: ${compression === "none" ? "" : `${compression}: `}${why}`);
    } finally {
      split.close();
    }
    const blob = `sha256:${blobHasher.digest("hex")}`;
    if (check.blobDigest !== undefined && blob !== check.blobDigest) throw new DigestMismatch(`${what}: digest mismatch: the content is ${blob}, not ${check.blobDigest}`);
    if (check.blobSize !== undefined && blobSize.n !== check.blobSize) throw new DigestMismatch(`${what}: ${blobSize.n} bytes, not the ${check.blobSize} its descriptor says`);
    const diffId = `sha256:${tarHasher.digest("hex")}`;
    if (check.diffId !== undefined && diffId !== check.diffId) throw new DigestMismatch(`${what}: diff id mismatch: the uncompressed content is ${diffId}, not ${check.diffId}`);
    return { tmp, diffId, tarSize: tarSize.n, stats };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Makes an unpacked layer visible as `chainId`, unless another process got there first (then it is dropped). */
export async function commitUnpacked(store: ImageStore, layer: UnpackedLayer, chainId: string): Promise<void> {
  const fd = await store.lock(`layer-${hex(chainId)}`);
  try {
    if (store.hasLayer(chainId)) {
      rmSync(layer.tmp, { recursive: true, force: true });
      return;
    }
    writeFileSync(join(layer.tmp, "size"), String(layer.stats.bytes));
    store.commitLayer(chainId, layer.tmp);
  } catch (e) {
    rmSync(layer.tmp, { recursive: true, force: true });
    throw e;
  } finally {
    unlock(fd);
  }
}

/** Bytes of the uncompressed tar in a (possibly compressed) stream. */
async function tarSizeOf(source: ReadableStream<Uint8Array>): Promise<number> {
  const { compression, rest } = await peek(hashed(source, new Bun.CryptoHasher("sha256"), { n: 0 }));
  const tar = compression === "none" ? rest : toStream(rest).pipeThrough(new DecompressionStream(compression as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  let n = 0;
  for await (const chunk of tar) n += chunk.length;
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
