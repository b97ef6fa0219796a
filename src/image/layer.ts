// One layer from registry to disk in a single pass: the blob streams from the registry
// through its digest, the decompressor and the diff-id digest into the tar writer, which
// unpacks into a temp dir; the dir is renamed to layers/CHAIN only once the blob's
// digest, its size and the diff id all matched, and removed otherwise. No copy of the
// compressed blob is written to disk. Small blobs (configs) are stored whole. A download
// that breaks off is resumed with a Range request, the unpacking going on undisturbed.
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { ReadableStreamReadResult } from "node:stream/web";
import { ContainerError } from "../runtime/errors";
import { Cancelled, untilAborted } from "./parallel";
import { RegistryError, type Registry } from "./registry";
import { ImageStore, hex, tempName } from "./store";
import type { Descriptor } from "./types";
import type { UnpackStats } from "./unpack";
import { TAR_SPLIT } from "./tar-split";
import { unpackCompressed } from "./unpack-stream";

const DOWNLOAD_ATTEMPTS = 4;

export class DigestMismatch extends ContainerError {}

/** Bytes so far of one blob, for progress reports. */
export type ByteCount = (bytes: number) => void;

/** The connection failed while a blob's bytes were arriving: worth starting again. */
class Interrupted extends Error {}

function requireSha256(desc: Descriptor): void {
  if (!desc.digest.startsWith("sha256:")) throw new ContainerError(`blob ${desc.digest}: only sha256 digests are supported`);
}

/** Retries `attempt` when the request failed (not when the content was wrong); `what` names the blob in the last error. */
async function withRetries<T>(what: string, attempt: () => Promise<T>, onRetry?: (why: string) => void): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      const cause = e instanceof Interrupted && e.cause instanceof Error ? e.cause : (e as Error);
      if (e instanceof ContainerError || e instanceof RegistryError) throw cause;
      if (n >= DOWNLOAD_ATTEMPTS) throw new ContainerError(`${what}: ${cause.message} (after ${n} attempts)`);
      onRetry?.(cause.message);
      await Bun.sleep(250 * 2 ** n);
    }
  }
}

/** The response's Content-Length, if it has a usable one. */
function contentLength(res: Response): number | undefined {
  const length = res.headers.get("content-length");
  return length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
}

/** Where a blob's bytes come from: the registry, asked again from an offset after a drop. */
type Reopen = (from: number) => Promise<Response>;

/**
 * A blob's bytes as they arrive, hashed on the way. A connection that drops is asked
 * again from the first missing byte (HTTP Range), and the consumer (the decompressor,
 * the tar writer) never notices: nothing is fetched or unpacked twice. A registry that
 * ignores the range sends everything again, and what was had already is skipped.
 * `check()`, once the consumer has read everything it wanted, throws unless all of the
 * blob arrived and matched.
 */
class BlobStream {
  private readonly hasher = new Bun.CryptoHasher("sha256");
  private next!: () => Promise<ReadableStreamReadResult<Uint8Array>>;
  /** Bytes of the blob passed on so far. */
  private size = 0;
  /** Bytes of the current response received (skipped ones included), and its Content-Length. */
  private received = 0;
  private length: number | undefined;
  /** Bytes at the start of the current response that were had already. */
  private skip = 0;
  private attempts = 1;
  private ended = false;
  private digest: string | undefined;
  /**
   * Why reading stopped, if it failed here: the error may reach the consumer only
   * wrapped (through a decompressor), so the caller asks this instead.
   */
  failure: Error | undefined;

  constructor(
    private readonly desc: Descriptor,
    first: Response,
    private readonly reopen: Reopen,
    private readonly onBytes?: ByteCount,
    private readonly onRetry?: (why: string) => void,
  ) {
    this.use(first, 0);
  }

  private use(res: Response, skip: number): void {
    const reader = res.body!.getReader();
    this.next = () => reader.read();
    this.length = contentLength(res);
    this.received = 0;
    this.skip = skip;
  }

  /** The next chunk, hashed and counted; null at the end. Every byte of the blob passes here exactly once. */
  private async read(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.ended) return null;
      let r;
      try {
        r = await this.next();
      } catch (e) {
        await this.resume((e as Error).message, e);
        continue;
      }
      if (r.done) {
        if (this.size < this.desc.size) {
          // All the registry meant to send, and still short: the manifest's size is wrong.
          if (this.received === this.length) throw (this.failure = new DigestMismatch(`blob ${this.desc.digest}: the registry sent ${this.size} bytes, the manifest declares ${this.desc.size}`));
          // Otherwise a body that ends early without an error is a connection that closed early.
          await this.resume(`the connection closed after ${this.size} of ${this.desc.size} bytes`);
          continue;
        }
        this.ended = true;
        return null;
      }
      let chunk = r.value;
      this.received += chunk.length;
      if (this.skip > 0) {
        const drop = Math.min(this.skip, chunk.length);
        this.skip -= drop;
        chunk = chunk.subarray(drop);
        if (chunk.length === 0) continue;
      }
      this.size += chunk.length;
      if (this.size > this.desc.size) {
        throw (this.failure = new DigestMismatch(`blob ${this.desc.digest}: the registry sent more than the ${this.desc.size} bytes the manifest declares`));
      }
      this.hasher.update(chunk);
      this.onBytes?.(this.size);
      return chunk;
    }
  }

  /** Asks for the rest of the blob after a drop; gives up (one line) after the last attempt. */
  private async resume(why: string, cause?: unknown): Promise<void> {
    for (;;) {
      if (this.attempts >= DOWNLOAD_ATTEMPTS) {
        throw (this.failure = new ContainerError(`blob ${this.desc.digest}: ${why} (after ${this.attempts} attempts)`, 125, cause instanceof Error ? cause.message : undefined));
      }
      this.attempts++;
      this.onRetry?.(why);
      await Bun.sleep(250 * 2 ** (this.attempts - 1));
      let res: Response;
      try {
        res = await this.reopen(this.size);
      } catch (e) {
        if (e instanceof ContainerError || e instanceof RegistryError) throw (this.failure = e);
        why = (e as Error).message;
        continue;
      }
      if (res.status === 206) {
        // Content-Range: bytes START-END/TOTAL; a registry may start earlier than asked, never later
        const start = Number(/^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "")?.[1] ?? NaN);
        if (!(start <= this.size)) {
          await res.body?.cancel().catch(() => {});
          throw (this.failure = new RegistryError(`blob ${this.desc.digest}: asked for the bytes from ${this.size} on, the registry answered ${res.headers.get("content-range") ?? "without a Content-Range"}`));
        }
        return this.use(res, this.size - start);
      }
      return this.use(res, this.size); // 200: all of it again
    }
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    for (let c = await this.read(); c !== null; c = await this.read()) yield c;
  }

  /**
   * After the consumer failed: reads the rest of the blob and returns the digest error if
   * its bytes were wrong, the real cause of whatever the decompressor or tar reader saw.
   */
  async mismatch(): Promise<Error | undefined> {
    if (this.failure) return this.failure;
    try {
      while ((await this.read()) !== null) {
        // hashed on the way
      }
      this.check();
    } catch (e) {
      if (e instanceof Interrupted || e instanceof DigestMismatch || e instanceof ContainerError) return e;
    }
    return this.failure;
  }

  /** Throws unless the whole blob arrived and matched its digest (call after reading it). */
  check(): void {
    if (!this.ended) throw new DigestMismatch(`blob ${this.desc.digest}: data after the end of the compressed stream`);
    this.digest ??= `sha256:${this.hasher.digest("hex")}`; // a hasher gives its digest once
    const got = this.digest;
    if (got !== this.desc.digest) throw new DigestMismatch(`blob ${this.desc.digest}: digest mismatch: downloaded content is ${got}`);
  }
}

async function fetchBlob(registry: Registry, repo: string, desc: Descriptor, onBytes?: ByteCount, onRetry?: (why: string) => void): Promise<BlobStream> {
  const reopen: Reopen = (from) => registry.blob(repo, desc.digest, from);
  let res: Response;
  try {
    res = await reopen(0);
  } catch (e) {
    if (e instanceof ContainerError || e instanceof RegistryError) throw e; // the registry's answer, retried there already
    throw new Interrupted((e as Error).message, { cause: e });
  }
  return new BlobStream(desc, res, reopen, onBytes, onRetry);
}

/**
 * Downloads a blob into the store and verifies it; a dropped connection goes on from
 * where it broke (the registry client already retried the request itself). A mismatch
 * removes the bytes.
 */
export async function downloadBlob(
  store: ImageStore,
  registry: Registry,
  repo: string,
  desc: Descriptor,
  onRetry?: (why: string) => void,
  onBytes?: ByteCount,
): Promise<string> {
  requireSha256(desc);
  const path = store.blobPath(desc.digest);
  return withRetries(`blob ${desc.digest}`, async () => {
    const tmp = tempName(store.dir("blobs", "sha256"), hex(desc.digest));
    try {
      const blob = await fetchBlob(registry, repo, desc, onBytes, onRetry);
      const fd = openSync(tmp, "w", 0o600);
      try {
        for await (const chunk of blob.chunks()) {
          for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
        }
      } finally {
        closeSync(fd);
      }
      blob.check();
      renameSync(tmp, path);
      return path;
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }, onRetry);
}

/**
 * Downloads and unpacks the layer `desc` as `chainId` in one pass, verifying the blob's
 * digest and `diffId`. A dropped connection goes on from the first missing byte.
 */
export async function pullLayer(
  store: ImageStore,
  registry: Registry,
  repo: string,
  desc: Descriptor,
  diffId: string,
  chainId: string,
  onRetry?: (why: string) => void,
  onBytes?: ByteCount,
  signal?: AbortSignal,
): Promise<UnpackStats> {
  requireSha256(desc);
  return withRetries(`blob ${desc.digest}`, async () => {
    if (signal?.aborted) throw new Cancelled();
    const blob = await fetchBlob(registry, repo, desc, onBytes, onRetry);
    try {
      return await unpackStream(store, untilAborted(blob.chunks(), signal), diffId, chainId, () => blob.check());
    } catch (e) {
      if (e instanceof Cancelled) throw e; // the rest of the blob is not wanted
      throw (await blob.mismatch()) ?? e;
    }
  }, onRetry);
}

/**
 * Unpacks a (compressed) layer tar arriving from `source` into a temp dir, verifies
 * `diffId` (the digest of the uncompressed tar) and calls `verify` (the blob's own
 * checks) before renaming the dir to layers/CHAIN. Nothing appears under layers/
 * unless the whole layer matched.
 */
async function unpackStream(store: ImageStore, source: AsyncIterable<Uint8Array>, diffId: string, chainId: string, verify: () => void): Promise<UnpackStats> {
  const tmp = tempName(store.dir("layers"), hex(chainId));
  const diff = join(tmp, "diff");
  mkdirSync(diff, { recursive: true, mode: 0o755 });
  try {
    // with its tar-split, so that `save` can write the same tar again
    const { stats, digest } = await unpackCompressed(source, diff, `layer ${diffId}`, join(tmp, TAR_SPLIT));
    verify(); // a wrong blob explains a wrong diff id: say that first
    if (digest !== diffId) throw new DigestMismatch(`layer ${diffId}: diff id mismatch: the uncompressed content is ${digest}`);
    writeFileSync(join(tmp, "size"), String(stats.bytes));
    store.commitLayer(chainId, tmp);
    return stats;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
