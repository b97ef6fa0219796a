// `mycr import ROOTFS.tar [REF]`: a root filesystem tar (what `docker export` writes,
// or `tar -C dir -c .`; gzip and zstd too) becomes a one-layer image. The layer goes
// through the same confined unpack and store as a pulled one (diff id = sha256 of the
// uncompressed tar, kept with its tar-split so `save` can write it back); a config and
// an OCI manifest are generated and stored as blobs.
import { statSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { unlock } from "../sys";
import { configFromChanges } from "./changes";
import { imageName, layerManifest, recordImage } from "./commit";
import { pruneStore } from "./images";
import { commitUnpacked, unpackToTemp } from "./layer-stream";
import { hostPlatform } from "./platform";
import { ImageStore, hex, sha256 } from "./store";

export interface ImportOptions {
  /** Name for the image; none: untagged. */
  name?: string;
  /** Dockerfile-style config changes (--change). */
  changes?: string[];
  /** Told of each entry left out (device nodes: docs/images.md "Safe unpacking"). */
  onWarning?: (message: string) => void;
  /** Told what is worth knowing but not wrong (the layer was in the store already). */
  onInfo?: (message: string) => void;
}

function source(input: string): ReadableStream<Uint8Array> {
  if (input === "-") return Bun.stdin.stream();
  let st;
  try {
    st = statSync(input);
  } catch (e) {
    throw new ContainerError((e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message);
  }
  if (st.isDirectory()) throw new ContainerError("a directory, not a tar archive (tar -C DIR -c . | mycr import - NAME)");
  return Bun.file(input).stream();
}

/** Imports the tar at `input` ("-": stdin); returns the image id. */
export async function importRootfs(store: ImageStore, input: string, opts: ImportOptions = {}): Promise<string> {
  const label = input === "-" ? "stdin" : input;
  // Checked before any byte is read.
  const name = opts.name !== undefined ? imageName(opts.name, "import") : undefined;
  const body = configFromChanges(opts.changes ?? []);
  const pulls = await store.lock("pulls.lock", true);
  try {
    const layer = await unpackToTemp(store, source(input), {}, "root filesystem");
    // The image keeps the tar's diff id, but not these files: say so, entry by entry, so
    // nobody wonders later where their /dev/sda went (a container gets its own /dev).
    for (const path of layer.stats.skippedDevices) opts.onWarning?.(`import ${label}: left out device node ${path} (images carry no device nodes)`);
    // One layer: its chain id is its diff id. Already there: said as pull and load say it.
    if (!(await commitUnpacked(store, layer, layer.diffId))) opts.onInfo?.(`${hex(layer.diffId).slice(0, 12)}: already exists`);
    const created = new Date().toISOString();
    const { os, architecture, variant } = hostPlatform();
    const config = {
      created,
      architecture,
      os,
      ...(variant ? { variant } : {}),
      config: body,
      rootfs: { type: "layers", diff_ids: [layer.diffId] },
      history: [{ created, created_by: "mycr import", comment: `imported from ${label}` }],
    };
    const configBytes = new TextEncoder().encode(JSON.stringify(config));
    const id = sha256(configBytes);
    store.putBlob(id, configBytes);
    const manifest = layerManifest({ digest: id, size: configBytes.length }, [{ diffId: layer.diffId, size: layer.tarSize }]);
    store.putBlob(manifest.digest, manifest.bytes);
    await recordImage(store, { digest: manifest.digest, manifest: manifest.digest, config: id, layers: [layer.diffId] }, name !== undefined ? [name] : []);
    return id;
  } catch (e) {
    throw new ContainerError(`import ${label}: ${(e as Error).message}`);
  } finally {
    unlock(pulls);
    await pruneStore(store, false);
  }
}
