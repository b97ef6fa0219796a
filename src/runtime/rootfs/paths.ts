// Resolving container paths against the root filesystem without escaping it.
// A rootfs is untrusted: its symlinks are interpreted as if the rootfs were "/",
// so `/data -> /etc` leads to <rootfs>/etc, never to the host's /etc.
import { lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";

const MAX_SYMLINKS = 255;

/** Host path for `containerPath` inside `root`, every symlink resolved within root. */
export function resolveInRoot(root: string, containerPath: string): string {
  const resolved: string[] = [];
  let pending = containerPath.split("/");
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // missing: the rest is taken literally and created by the caller
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new Error(`${containerPath}: too many levels of symbolic links in the root filesystem`);
    const target = readlinkSync(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    pending = [...target.split("/"), ...pending];
  }
  return join(root, ...resolved);
}
