// --storage-opt KEY=VALUE (docker's flag): only size=SIZE, the most the container may write
// to its root filesystem (its overlay upper dir). Anything else is refused, never ignored.
import { ContainerError } from "../runtime/errors";
import { parseSize } from "./units";

export interface StorageOptions {
  /** Bytes the container's upper dir may hold (a project quota; see disk-quota.ts). */
  size?: number;
}

export function parseStorageOpts(texts: string[]): StorageOptions {
  const opts: StorageOptions = {};
  for (const text of texts) {
    const eq = text.indexOf("=");
    const key = eq < 0 ? text : text.slice(0, eq);
    if (key.toLowerCase() !== "size" || eq < 0) throw new ContainerError(`--storage-opt ${text}: unknown option (mycr knows size=SIZE only, e.g. size=10g)`);
    let bytes: number;
    try {
      bytes = parseSize("--storage-opt", text.slice(eq + 1));
    } catch {
      throw new ContainerError(`--storage-opt ${text}: not a size (a number with an optional unit b, k, m, g: size=10g)`);
    }
    if (bytes <= 0) throw new ContainerError(`--storage-opt ${text}: the size must be more than 0`);
    opts.size = bytes;
  }
  return opts;
}
