// How a container's lower directories are written into its overlay root mount's options,
// and read back: apart from rootfs.ts, so that the container list (every command that
// names a container) reads them without loading what removes a root (disk quotas, FUSE,
// idmapped layers).
import type { Mount } from "../spec/types";

/** overlayfs splits lowerdir on ':' and options on ','; both must be escaped in paths. */
export function escapeOverlayPath(path: string): string {
  return path.replace(/[\\:,]/g, (c) => `\\${c}`);
}

/** The lower directories of a spec's overlay root (see overlayRootMount), unescaped; [] without one. */
export function overlayLowers(mounts: Mount[] | undefined): string[] {
  const root = mounts?.find((m) => m.destination === "/" && m.type === "overlay");
  const option = root?.options?.find((o) => o.startsWith("lowerdir="))?.slice("lowerdir=".length);
  if (option === undefined) return [];
  // "\:" is a colon inside a path, ":" separates layers
  return option.split(/(?<!\\):/).map((p) => p.replace(/\\(.)/g, "$1"));
}
