// A stored layer's tar written again from its unpacked files and its tar-split, checked
// against its diff id as it goes (save writes it into archives, push uploads it).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { ImageStore, hex } from "./store";
import { TAR_SPLIT, assembleTar, splitTarSize } from "./tar-split";

export interface LayerTar {
  diffId: string;
  chainId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
}

/** The layer's tar (its size from the tar-split); `image` names the image in the error for a layer kept without one. */
export function layerTar(store: ImageStore, chainId: string, diffId: string, image: string): LayerTar {
  const split = join(store.layerDir(chainId), TAR_SPLIT);
  if (!existsSync(split)) {
    throw new ContainerError(`image ${image}: layer ${hex(chainId).slice(0, 12)} was stored without the tar metadata this needs (by an older mycr): rmi the image, then pull or load it again`);
  }
  return { diffId, chainId, size: splitTarSize(split) };
}

/** The layer's tar, hashed on the way; a mismatch with its diff id fails at the end. */
export async function* verifiedLayer(store: ImageStore, layer: LayerTar): AsyncGenerator<Uint8Array> {
  const hasher = new Bun.CryptoHasher("sha256");
  const dir = store.layerDir(layer.chainId);
  for (const chunk of assembleTar(join(dir, TAR_SPLIT), join(dir, "diff"))) {
    hasher.update(chunk);
    yield chunk;
  }
  const got = `sha256:${hasher.digest("hex")}`;
  if (got !== layer.diffId) {
    throw new ContainerError(`layer ${layer.diffId}: written again it is ${got}: its files changed since it was unpacked (or its tar held a path twice)`);
  }
}
