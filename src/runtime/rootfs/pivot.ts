// Making the prepared root the container's "/".
import { MS, SysError, chdir, chroot, detach, mount, pivotRoot, setPropagation } from "../../sys";

export type RootSwitch = "pivot_root" | "chroot";

/**
 * pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then
 * drops the old root. Where pivot_root cannot work (a ramfs/initramfs root, or
 * --no-pivot), the root is moved over "/" and chroot'ed into instead.
 */
export function switchRoot(rootfs: string, noPivot: boolean): RootSwitch {
  chdir(rootfs);
  if (!noPivot) {
    try {
      pivotRoot(".", ".");
      // Make sure unmounting the old root cannot propagate back to the host.
      setPropagation(".", MS.SLAVE | MS.REC);
      detach(".");
      chdir("/");
      return "pivot_root";
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== 22 /* EINVAL: e.g. the root is ramfs */) throw e;
    }
  }
  mount(rootfs, "/", null, MS.MOVE, null);
  chroot(".");
  chdir("/");
  return "chroot";
}

/** Without a mount namespace of the container's own: only chroot, the host's root stays where it is. */
export function chrootInto(rootfs: string): void {
  chdir(rootfs);
  chroot(".");
  chdir("/");
}
