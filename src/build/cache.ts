// The build cache: step key -> the image that step made, in MYCR_ROOT/build-cache.json.
// A step's key is the sha256 of the previous step's key, the instruction as expanded
// and what it reads (the content of copied files, the build args a RUN sees), so a
// changed file changes its step's key and every key after it. The images themselves are
// ordinary store records (untagged, marked intermediate); an entry whose image was
// removed (rmi, image prune) is a miss.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../runtime/atomic";
import { findImage } from "../image/images";
import type { ImageStore, ImageRecord } from "../image/store";
import { sha256 } from "../image/store";
import { unlock } from "../sys";

export function stepKey(previous: string, ...parts: string[]): string {
  return sha256([previous, ...parts].join("\n"));
}

export class BuildCache {
  constructor(private readonly store: ImageStore) {}

  private file(): string {
    return join(this.store.root, "build-cache.json");
  }

  private read(): Record<string, string> {
    try {
      return JSON.parse(readFileSync(this.file(), "utf8")) as Record<string, string>;
    } catch {
      return {};
    }
  }

  /** The image `key` made, if it is still in the store with all its layers. */
  find(key: string): ImageRecord | undefined {
    const id = this.read()[key];
    if (id === undefined) return undefined;
    const image = findImage(this.store, id);
    return image && image.config === id && image.layers.every((l) => this.store.hasLayer(l)) ? image : undefined;
  }

  async remember(key: string, id: string): Promise<void> {
    const fd = await this.store.lock("build-cache.lock");
    try {
      const all = this.read();
      // Entries of images that are gone are dropped as the file is written.
      const live = new Set(this.store.images().map((i) => i.config));
      const kept = Object.fromEntries(Object.entries(all).filter(([, v]) => live.has(v)));
      kept[key] = id;
      writeFileAtomic(this.file(), JSON.stringify(kept), 0o600);
    } finally {
      unlock(fd);
    }
  }
}
