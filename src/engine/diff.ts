// docker diff: what a running container changed in its root filesystem, read from its
// overlay upper directory on the host. A 0:0 character device there is a whiteout
// (D), an entry that a lower layer also has was changed (C), anything else was added (A).
// The upper directory is the container's to write: it is walked by fds, one name at a
// time, never by paths it could redirect with a symlink.
import { existsSync, fstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { close, fdPath, O_DIRECTORY, openPath } from "../sys";
import type { ContainerView } from "./containers";
import { openChild } from "./file-tree";
import { containerDir } from "./paths";
import { overlayLowers } from "./overlay-lowers";
import { rootfsPaths } from "./rootfs";

export interface Change {
  kind: "A" | "C" | "D";
  path: string;
}

function walk(fd: number, path: string, lowers: string[], out: Change[]): void {
  for (const name of readdirSync(fdPath(fd))) {
    const child = openChild(fd, name, {});
    if (child === null || child === -1) continue;
    try {
      const st = fstatSync(child);
      const p = `${path}/${name}`;
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ kind: "D", path: p });
        continue;
      }
      out.push({ kind: lowers.some((l) => existsSync(join(l, p))) ? "C" : "A", path: p });
      if (st.isDirectory()) walk(child, p, lowers, out);
    } finally {
      close(child);
    }
  }
}

export function containerChanges(view: ContainerView, ref: string): Change[] {
  const upper = rootfsPaths(containerDir(view.id)).upper;
  const running = view.state === "running" || view.state === "paused";
  if (!running || !view.runtime || !existsSync(upper)) {
    throw new ContainerError(`container ${ref} is ${view.state}: its changes exist only while it runs (mycr removes a container's root filesystem when it exits)`);
  }
  const lowers = overlayLowers(view.runtime.spec.mounts);
  const fd = openPath(upper, O_DIRECTORY);
  const out: Change[] = [];
  try {
    walk(fd, "", lowers, out);
  } finally {
    close(fd);
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
