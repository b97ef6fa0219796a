// A layer blob's bytes to files: the compression told by its magic number, decompressed,
// the diff id (digest of the uncompressed tar) computed on the way, unpacked by
// unpack.ts into a directory. Verifying and committing are the caller's (layer.ts).
import { ContainerError } from "../runtime/errors";
import { GzipInflater, InflateError } from "./inflate";
import { TarParser, type TarSink } from "./tar-parser";
import { TarSplitWriter } from "./tar-split";
import { LayerSink, type UnpackStats } from "./unpack";

/** gzip and zstd by their magic numbers: media types lie more often than bytes do. */
function compressionOf(head: Uint8Array): "gzip" | "zstd" | "none" {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === 0xfd2fb528) return "zstd";
  return "none";
}

/** Reads the first bytes of `source` (enough to tell the compression); returns them with the rest. */
async function sniff(source: AsyncIterable<Uint8Array>): Promise<{ compression: "gzip" | "zstd" | "none"; chunks: AsyncGenerator<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  let head: Uint8Array = new Uint8Array(0);
  let done = false;
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head = head.length === 0 ? r.value : Buffer.concat([head, r.value]);
  }
  async function* chunks(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    while (!done) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { compression: compressionOf(head), chunks: chunks() };
}

/** Passes the bytes on, hashed (and counted, with `total`). */
export async function* hashed(source: AsyncIterable<Uint8Array>, hasher: Bun.CryptoHasher, total?: { n: number }): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    hasher.update(chunk);
    if (total) total.n += chunk.length;
    yield chunk;
  }
}

/** A pull-based stream over an async iterable, so it can be piped through a decompressor. */
export function toStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await it.next();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    async cancel(reason) {
      await it.return?.(reason);
    },
  });
}

export type Compression = "gzip" | "zstd" | "none";

/** The uncompressed bytes of `source`, whose compression is told by its first bytes. */
export async function decompressed(source: AsyncIterable<Uint8Array>): Promise<{ compression: Compression; tar: AsyncIterable<Uint8Array> }> {
  const { compression, chunks } = await sniff(source);
  if (compression === "none") return { compression, tar: chunks };
  return { compression, tar: toStream(chunks).pipeThrough(new DecompressionStream(compression as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>) };
}

export interface Unpacked {
  stats: UnpackStats;
  /** Digest of the uncompressed tar: the diff id. */
  digest: string;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
}

/**
 * Unpacks the (compressed) tar arriving from `source` into `dir`; returns what was
 * written and the digest and size of the uncompressed tar. Errors name `label` (the
 * layer). With `splitPath`, the tar's skeleton is kept there (tar-split.ts) for `save`.
 *
 * One synchronous pass per arriving chunk: gzip inflated into a buffer used again each
 * time (inflate.ts), each piece hashed, parsed (tar-parser.ts) and written before the
 * next is made. zstd goes through a DecompressionStream into the same parser.
 */
export async function unpackCompressed(source: AsyncIterable<Uint8Array>, dir: string, label: string, splitPath?: string): Promise<Unpacked> {
  const { compression, chunks } = await sniff(source);
  const inflater = compression === "gzip" ? GzipInflater.open() : null;
  const hasher = new Bun.CryptoHasher("sha256");
  let tarSize = 0;
  const split = splitPath !== undefined ? new TarSplitWriter(splitPath) : undefined;
  const files = new LayerSink(dir);
  const parser = new TarParser(split ? splitSink(files, split) : files, split?.tap);
  const take = (tar: Uint8Array): void => {
    hasher.update(tar);
    tarSize += tar.length;
    parser.push(tar);
  };
  try {
    if (inflater) {
      for await (const chunk of chunks) inflater.push(chunk, take);
      inflater.finish(take);
    } else {
      const tar = compression === "none" ? chunks : toStream(chunks).pipeThrough(new DecompressionStream(compression as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
      for await (const chunk of tar) take(chunk);
    }
    parser.finish();
    const stats = files.finish();
    split?.finish();
    return { stats, digest: `sha256:${hasher.digest("hex")}`, tarSize };
  } catch (err) {
    const e = err instanceof InflateError ? files.named(err) : err;
    // Ours name the entry or the tar ("layer entry …", "layer: tar header …"); the decompressor's name nothing.
    let why = (e as Error).message.replace(/^layer:? /, "");
    if (why.startsWith("tar header")) why = `not a tar archive (${why.replace(" (corrupt or not a tar)", "")})`;
    throw new ContainerError(`${label}: ${compression === "none" ? "" : `${compression}: `}${why}`);
  } finally {
    inflater?.close();
    files.close();
    split?.close();
  }
}

/** The files' sink with the tar-split told where each file's content stands. */
function splitSink(files: LayerSink, split: TarSplitWriter): TarSink {
  return {
    entry(entry) {
      split.file(entry);
      files.entry(entry);
    },
    data: (chunk) => files.data(chunk),
    end: () => files.end(),
  };
}
