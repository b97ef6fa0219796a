// The flags of a mount that a user namespace may not clear (mount_namespaces(7): nosuid,
// nodev, noexec and the atime flags of a mount made in a more privileged namespace are
// locked). A bind of such a mount keeps them, and a remount of the bind (for "ro") that
// leaves them out fails with EPERM; runc's rootless mode adds them back, and so do we:
// they are already in force, so nothing the config asked for is lost.
import { readFileSync, realpathSync } from "node:fs";
import { MS, SysError, mount, unescapeMountPath } from "../../sys";

const LOCKABLE: Record<string, number> = {
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  relatime: MS.RELATIME,
};

/** The lockable flags of the mount `path` is on, from our mount table (the longest mount point above it). */
export function lockedFlagsOf(path: string): number {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return 0;
  }
  let best = "";
  let flags = 0;
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const fields = line.split(" ");
    const point = unescapeMountPath(fields[4] ?? "");
    const under = point === "/" || real === point || real.startsWith(`${point}/`);
    if (!point || !under || point.length < best.length) continue;
    best = point;
    flags = (fields[5] ?? "").split(",").reduce((f, o) => f | (LOCKABLE[o] ?? 0), 0);
  }
  return flags;
}

const ATIME = MS.NOATIME | MS.RELATIME | MS.STRICTATIME;

/** Applies `flags` (ro, nosuid, ...) to the bind of `source` at `target`, keeping what is locked. */
export function remountBind(target: string, flags: number, source: string): void {
  try {
    mount(null, target, null, MS.BIND | MS.REMOUNT | flags, null);
    return;
  } catch (e) {
    if (!(e instanceof SysError) || e.errno !== 1 /* EPERM */) throw e;
  }
  const locked = lockedFlagsOf(source);
  const atime = flags & ATIME ? 0 : locked & ATIME; // an atime flag the config names is its own
  mount(null, target, null, MS.BIND | MS.REMOUNT | flags | (locked & (MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NODIRATIME)) | atime, null);
}
