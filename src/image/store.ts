// The image store under MYCR_ROOT:
//   blobs/sha256/HEX        manifests and configs (layer blobs are unpacked as they arrive, never stored)
//   layers/CHAINHEX/diff    each layer unpacked once, shared by every image that has it
//   layers/CHAINHEX/size    bytes of its files
//   l/SHORT -> ../layers/CHAINHEX/diff   short names that keep overlay's lowerdir under a page
//   images/refs.json        name -> image (manifest, config, layer chain ids)
//   locks/                  flock files: one per layer (pull writes it, run holds it shared), one for refs.json
// Everything appears by rename of a finished temp name, so nothing half-written is ever seen.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { writeFileAtomic } from "../runtime/atomic";
import { tryLock, unlock } from "../sys";

export interface ImageRecord {
  /** Normalised reference (docker.io/library/alpine:3.20, or REPO@sha256:… when pulled by digest). */
  name: string;
  /** Digest of the manifest the registry served for the name (the index's, for a multi-platform image). */
  digest: string;
  /** The platform manifest's digest. */
  manifest: string;
  /** Config digest: the image id. */
  config: string;
  /** Chain ids, bottom layer first. */
  layers: string[];
  size: number;
  pulled: string;
  /** A step of a build (its layer cache), not asked for by name: `images` lists it only with -a. */
  intermediate?: boolean;
}

export function hex(digest: string): string {
  return digest.slice(digest.indexOf(":") + 1);
}

/** The digest of bytes, `sha256:…`. */
export function sha256(data: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;
}

/** Chain ids per the image spec: chain[0] = diff[0], chain[n] = sha256(chain[n-1] + " " + diff[n]). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out.at(-1)} ${d}`));
  return out;
}

let tmpCounter = 0;
export function tempName(dir: string, base: string): string {
  return join(dir, `.tmp-${base.slice(0, 16)}-${process.pid}-${++tmpCounter}`);
}

export class ImageStore {
  constructor(readonly root: string) {}

  dir(...parts: string[]): string {
    const d = join(this.root, ...parts);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    return d;
  }

  blobPath(digest: string): string {
    return join(this.dir("blobs", "sha256"), hex(digest));
  }

  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  readBlob(digest: string): Uint8Array {
    return readFileSync(this.blobPath(digest));
  }

  /** Stores bytes already verified against `digest`. */
  putBlob(digest: string, data: Uint8Array): void {
    const tmp = tempName(this.dir("blobs", "sha256"), hex(digest));
    writeFileSync(tmp, data, { mode: 0o644 });
    renameSync(tmp, this.blobPath(digest));
  }

  layerDir(chainId: string): string {
    return join(this.root, "layers", hex(chainId));
  }

  hasLayer(chainId: string): boolean {
    return existsSync(join(this.layerDir(chainId), "diff"));
  }

  layerSize(chainId: string): number {
    try {
      return Number(readFileSync(join(this.layerDir(chainId), "size"), "utf8")) || 0;
    } catch {
      return 0;
    }
  }

  /** Makes a finished layer (a temp dir holding diff/ and size) visible under its chain id. */
  commitLayer(chainId: string, tmp: string): void {
    renameSync(tmp, this.layerDir(chainId));
    const link = this.shortLink(chainId);
    rmSync(link, { force: true });
    symlinkSync(`../layers/${hex(chainId)}/diff`, link);
  }

  /** `l/` + 12 hex digits of the chain id (48 bits: collisions among local layers are not a concern). */
  shortLink(chainId: string): string {
    return join(this.dir("l"), hex(chainId).slice(0, 12));
  }

  lockPath(name: string): string {
    return join(this.dir("locks"), name);
  }

  /** Waits for the lock (polling, so one process's other downloads keep going). */
  async lock(name: string, shared = false): Promise<number> {
    for (let waited = 0; ; waited += 50) {
      const fd = tryLock(this.lockPath(name), shared);
      if (fd !== null) return fd;
      await Bun.sleep(50);
    }
  }

  /** Not created here: listing images must work (empty) before the first pull and without root. */
  private refsFile(): string {
    return join(this.root, "images", "refs.json");
  }

  images(): ImageRecord[] {
    try {
      return JSON.parse(readFileSync(this.refsFile(), "utf8")) as ImageRecord[];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new ContainerError(`image store ${this.refsFile()}: ${(e as Error).message}`);
    }
  }

  /** Read-modify-write of refs.json under its lock. */
  async updateImages<T>(change: (images: ImageRecord[]) => T): Promise<T> {
    const fd = await this.lock("refs.lock");
    try {
      const images = this.images();
      const result = change(images);
      this.dir("images");
      writeFileAtomic(this.refsFile(), JSON.stringify(images, null, 2) + "\n", 0o644);
      return result;
    } finally {
      unlock(fd);
    }
  }

  find(name: string): ImageRecord | undefined {
    return this.images().find((i) => i.name === name);
  }

  /** Leftover temp names of crashed pulls (no live process holds them: their locks are free). */
  tempEntries(): string[] {
    const out: string[] = [];
    for (const d of [join(this.root, "layers"), join(this.root, "blobs", "sha256")]) {
      if (!existsSync(d)) continue;
      for (const n of readdirSync(d)) if (n.startsWith(".tmp-")) out.push(join(d, n));
    }
    return out;
  }
}
