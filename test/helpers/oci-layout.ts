// Builds OCI image layouts on disk (blobs/, index.json, oci-layout) for skopeo to push.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface LayerSpec {
  tar: Uint8Array;
  compression?: "gzip" | "zstd" | "none";
  /** Lie about the diff id (to test verification). */
  diffId?: string;
}

export interface ImageSpec {
  layers: LayerSpec[];
  config?: Record<string, unknown>;
  architecture?: string;
  variant?: string;
}

export function sha(data: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;
}

export class OciLayout {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, "blobs/sha256"), { recursive: true });
    writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  }

  blob(mediaType: string, data: Uint8Array | string): Desc {
    const digest = sha(data);
    writeFileSync(join(this.dir, "blobs/sha256", digest.slice(7)), data);
    return { mediaType, digest, size: typeof data === "string" ? Buffer.byteLength(data) : data.length };
  }

  image(spec: ImageSpec): Desc {
    const layers: Desc[] = [];
    const diffIds: string[] = [];
    for (const l of spec.layers) {
      const c = l.compression ?? "gzip";
      const data: Uint8Array = c === "gzip" ? Bun.gzipSync(l.tar as Uint8Array<ArrayBuffer>) : c === "zstd" ? Bun.zstdCompressSync(l.tar) : l.tar;
      const type = `application/vnd.oci.image.layer.v1.tar${c === "none" ? "" : `+${c}`}`;
      layers.push(this.blob(type, data));
      diffIds.push(l.diffId ?? sha(l.tar));
    }
    const architecture = spec.architecture ?? "amd64";
    const config = this.blob(
      "application/vnd.oci.image.config.v1+json",
      JSON.stringify({ architecture, os: "linux", ...(spec.variant ? { variant: spec.variant } : {}), config: spec.config ?? {}, rootfs: { type: "layers", diff_ids: diffIds } }),
    );
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config, layers });
    return { ...this.blob("application/vnd.oci.image.manifest.v1+json", manifest), platform: { os: "linux", architecture, ...(spec.variant ? { variant: spec.variant } : {}) } };
  }

  index(manifests: Desc[]): Desc {
    return this.blob("application/vnd.oci.image.index.v1+json", JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }));
  }

  /** Writes index.json naming `top` as `tag`. */
  tag(top: Desc, tag: string): void {
    const { platform: _, ...desc } = top;
    writeFileSync(join(this.dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ ...desc, annotations: { "org.opencontainers.image.ref.name": tag } }] }));
  }
}
