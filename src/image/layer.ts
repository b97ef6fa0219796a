// One layer from registry to disk: the blob streamed to a temp file while its digest is
// computed, renamed into blobs/ once it matches; then decompressed, its diff id computed
// while the tar is unpacked into a temp dir, renamed to layers/CHAIN once that matches too.
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeFileSync, writeSync, renameSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import type { Registry } from "./registry";
import { ImageStore, hex, tempName } from "./store";
import { readTar } from "./tar";
import { TAR_SPLIT, TarSplitWriter } from "./tar-split";
import type { Descriptor } from "./types";
import { unpackLayer, type UnpackStats } from "./unpack";

const DOWNLOAD_ATTEMPTS = 4;

export class DigestMismatch extends ContainerError {}

/** Bytes so far of one blob, for progress reports. */
export type ByteCount = (bytes: number) => void;

async function downloadOnce(registry: Registry, repo: string, desc: Descriptor, tmp: string, onBytes?: ByteCount): Promise<string> {
  const res = await registry.blob(repo, desc.digest);
  const hasher = new Bun.CryptoHasher("sha256");
  const fd = openSync(tmp, "w", 0o600);
  let size = 0;
  try {
    for await (const chunk of res.body!) {
      hasher.update(chunk);
      for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
      size += chunk.length;
      onBytes?.(size);
      if (size > desc.size) break; // more than declared: the digest cannot match
    }
  } finally {
    closeSync(fd);
  }
  // Short of the declared size: the connection ended early (retried like a dropped one).
  if (size < desc.size) throw new Error(`truncated: received ${size} of ${desc.size} bytes`);
  return `sha256:${hasher.digest("hex")}`;
}

/**
 * Downloads a blob into the store and verifies it; a dropped connection starts it again
 * (the registry client already retried the request itself). A mismatch removes the bytes.
 */
export async function downloadBlob(
  store: ImageStore,
  registry: Registry,
  repo: string,
  desc: Descriptor,
  onRetry?: (why: string) => void,
  onBytes?: ByteCount,
): Promise<string> {
  const path = store.blobPath(desc.digest);
  if (!desc.digest.startsWith("sha256:")) throw new ContainerError(`blob ${desc.digest}: only sha256 digests are supported`);
  for (let attempt = 1; ; attempt++) {
    const tmp = tempName(store.dir("blobs", "sha256"), hex(desc.digest));
    try {
      const got = await downloadOnce(registry, repo, desc, tmp, onBytes);
      if (got !== desc.digest) throw new DigestMismatch(`blob ${desc.digest}: digest mismatch: downloaded content is ${got}`);
      renameSync(tmp, path);
      return path;
    } catch (e) {
      rmSync(tmp, { force: true });
      if (e instanceof ContainerError) throw e;
      if (attempt >= DOWNLOAD_ATTEMPTS) throw new ContainerError(`blob ${desc.digest}: ${(e as Error).message} (after ${attempt} attempts)`);
      onRetry?.((e as Error).message);
      await Bun.sleep(250 * 2 ** attempt);
    }
  }
}

/** gzip and zstd by their magic numbers: media types lie more often than bytes do. */
function compressionOf(path: string): "gzip" | "zstd" | "none" {
  const head = Buffer.alloc(4);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  return "none";
}

function counting(onBytes: ByteCount): TransformStream<Uint8Array, Uint8Array> {
  let bytes = 0;
  return new TransformStream({
    transform(chunk, controller) {
      bytes += chunk.length;
      onBytes(bytes);
      controller.enqueue(chunk);
    },
  });
}

async function* hashed(source: AsyncIterable<Uint8Array>, hasher: Bun.CryptoHasher): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    hasher.update(chunk);
    yield chunk;
  }
}

/**
 * Unpacks the blob at `blob` as the layer `chainId`, verifying `diffId` (the digest of the
 * uncompressed tar). Nothing appears under layers/ unless the whole layer matched.
 */
export async function unpackBlob(store: ImageStore, blob: string, diffId: string, chainId: string, onBytes?: ByteCount): Promise<UnpackStats> {
  const tmp = tempName(store.dir("layers"), hex(chainId));
  const diff = join(tmp, "diff");
  mkdirSync(diff, { recursive: true, mode: 0o755 });
  try {
    let stream: ReadableStream<Uint8Array> = Bun.file(blob).stream();
    if (onBytes) stream = stream.pipeThrough(counting(onBytes));
    const compression = compressionOf(blob);
    if (compression !== "none") {
      stream = stream.pipeThrough(new DecompressionStream(compression as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
    }
    const hasher = new Bun.CryptoHasher("sha256");
    let stats: UnpackStats;
    const split = new TarSplitWriter(join(tmp, TAR_SPLIT)); // lets `save` write the same tar again
    try {
      stats = await unpackLayer(split.items(readTar(hashed(stream, hasher), split.tap)), diff);
      split.finish();
    } catch (e) {
      // Ours name the entry or the tar ("layer entry …", "layer: truncated …"); the decompressor's name nothing.
      const what = e instanceof ContainerError ? e.message.replace(/^layer:? /, "") : `${compression}: ${(e as Error).message}`;
      throw new ContainerError(`layer ${diffId}: ${what}`);
    } finally {
      split.close();
    }
    const got = `sha256:${hasher.digest("hex")}`;
    if (got !== diffId) throw new DigestMismatch(`layer ${diffId}: diff id mismatch: the uncompressed content is ${got}`);
    writeFileSync(join(tmp, "size"), String(stats.bytes));
    store.commitLayer(chainId, tmp);
    return stats;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
