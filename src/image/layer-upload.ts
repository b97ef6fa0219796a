// One stored layer to a registry as a gzip blob: its tar written again from the unpacked
// files and the tar-split (verified against the diff id), gzipped and uploaded in chunks.
// The same code runs on the main thread and in the layer Worker (layer-pool.ts), so that
// a push compresses two layers on two cores.
import type { Registry } from "./registry";
import { untilAborted } from "./parallel";
import { verifiedLayer } from "./layer-tar";
import type { ImageStore } from "./store";
import { toStream } from "./unpack-stream";
import { Session, uploadStream, type Pushed } from "./upload";

export interface LayerUpload {
  chainId: string;
  diffId: string;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
  /** An upload session the registry opened already (a mount it could not do): its URL and minimum chunk. */
  session?: { url: string; minChunk: number };
}

/** Uploads the layer; `onBytes` hears the tar bytes read so far, `onRetry` why a chunk or the blob is tried again. */
export async function uploadLayer(store: ImageStore, registry: Registry, repo: string, layer: LayerUpload, onBytes: (read: number) => void, onRetry: (why: string) => void, signal?: AbortSignal): Promise<Pushed> {
  const open = () => {
    // told every MiB, not every file (a message between threads each)
    let read = 0;
    let told = 0;
    return gzipped(
      counted(untilAborted(verifiedLayer(store, { chainId: layer.chainId, diffId: layer.diffId, size: layer.tarSize }), signal), (n) => {
        read += n;
        if (read - told >= 1 << 20 || read === layer.tarSize) onBytes((told = read));
      }),
    );
  };
  const session = layer.session ? new Session(registry, repo, layer.session.url, layer.session.minChunk) : undefined;
  return uploadStream(registry, repo, open, { session, onRetry });
}

async function* counted(source: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    onBytes(chunk.length);
    yield chunk;
  }
}

/** gzip at zlib's default level, with no name or time in the header: the same tar gives the same blob. */
async function* gzipped(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* toStream(source).pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
}
