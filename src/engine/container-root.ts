// A running container's files, reached from the host without trusting them: an fd on
// its root (/proc/PID/root of its init, checked to be that very process), and paths
// resolved below that fd by the kernel with RESOLVE_IN_ROOT, so `..` stops at the
// container's root and its symlinks, absolute ones too, are read as the container
// would read them, never as paths on the host.
import { ContainerError } from "../runtime/errors";
import { processStartTime } from "../runtime/procfs";
import { O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, RESOLVE, SysError, close, openPath, openat, openat2 } from "../sys";
import type { ContainerView } from "./containers";

/** An O_PATH fd on the root directory of the running container `view` (the caller closes it). */
export function openContainerRoot(view: ContainerView, ref: string): number {
  const init = view.runtime?.init;
  const gone = () => new ContainerError(`container ${ref} is ${view.state === "running" ? "gone" : view.state}: its files exist only while it runs (mycr removes a container's root filesystem when it exits)`);
  if (!init || (view.state !== "running" && view.state !== "paused")) throw gone();
  let proc: number;
  try {
    proc = openPath(`/proc/${init.pid}`, O_DIRECTORY);
  } catch {
    throw gone();
  }
  try {
    // The fd holds this pid's process; were the pid reused before it was opened, the start time differs.
    if (processStartTime(init.pid) !== init.startTime) throw gone();
    return openat(proc, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  } finally {
    close(proc);
  }
}

/**
 * An O_PATH fd of `path` inside the container whose root is `root`. The last component
 * is followed (`follow`, a destination directory) or taken as it is (a source: a symlink
 * is copied as a link, as docker cp does without -L). Null when it does not exist.
 */
export function openInContainer(root: number, path: string, follow: boolean): number | null {
  try {
    return openat2(root, path === "" ? "." : path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW), RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS);
  } catch (e) {
    if (e instanceof SysError && e.code === "ENOENT") return null;
    throw e;
  }
}
