// A container without a mount namespace of its own (no {"type": "mount"}) mounts the
// spec's mounts, /proc and the rest into the runtime's mount namespace, below its root
// filesystem. Nothing of it may outlive the container: every exit path calls this.
import { SysError } from "../sys/errno";
import { detach, mountPointsBelow } from "../sys/mount";
import type { Spec } from "../spec/types";
import { sharesRuntimeMounts } from "../spec/namespaces";

/** Unmounts what the container mounted below `rootfs` (not the root itself: it may be its caller's). */
export function releaseSharedMounts(spec: Spec, rootfs: string): void {
  if (!sharesRuntimeMounts(spec)) return;
  for (const point of mountPointsBelow(rootfs)) {
    try {
      detach(point);
    } catch (e) {
      // gone already (a parent detached first), or not a mount point any more
      if (!(e instanceof SysError) || (e.errno !== 22 && e.errno !== 2)) throw e;
    }
  }
}
