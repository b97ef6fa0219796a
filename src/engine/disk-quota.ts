// --storage-opt size: a container's writes (its overlay upper and work dirs) are charged to
// a project id of its own, and the filesystem under MYCR_ROOT refuses blocks past the
// project's limit (EDQUOT on ext4, ENOSPC on xfs), as docker's overlay2 does. Where the
// filesystem cannot enforce that, the flag is refused before anything exists.
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, realpathSync, statfsSync } from "node:fs";
import { dirname, join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { getProjectId, projectQuotaState, setProjectBlockLimit, setProjectId, SysError, type QuotaTarget } from "../sys";
import { containersDir, dataRoot } from "./paths";
import type { ContainerRootfs } from "./rootfs";

/**
 * mycr's project ids: "my" in the high half, the low half a slot. An id in this range is
 * mycr's to set and reset; ids outside it (an administrator's) are never touched.
 */
const FIRST_ID = 0x6d790000;
const ID_COUNT = 0x10000;
const ours = (id: number) => id >= FIRST_ID && id < FIRST_ID + ID_COUNT;

const FS_NAMES: Record<number, string> = {
  0xef53: "ext4",
  0x58465342: "xfs",
  0x01021994: "tmpfs",
  0x9123683e: "btrfs",
  0x794c7630: "overlay",
  0x2fc12fc1: "zfs",
  0x6969: "nfs",
};
const QUOTA_FS = new Set(["ext4", "xfs"]);

function existingAncestor(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/** The block device of the mount holding `path`, from mountinfo (quotactl before Linux 5.14). */
function deviceOf(path: string): string | null {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return null;
  }
  let best: { point: string; source: string } | null = null;
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    const point = left?.split(" ")[4]?.replace(/\\040/g, " ");
    const source = right?.split(" ")[1];
    if (!point || !source) continue;
    const inside = point === "/" || real === point || real.startsWith(`${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = { point, source };
  }
  return best?.source.startsWith("/dev/") ? best.source : null;
}

function withDir<T>(path: string, fn: (target: QuotaTarget) => T): T {
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return fn({ fd, device: () => deviceOf(path) });
  } finally {
    closeSync(fd);
  }
}

/** Refuses --storage-opt size, in one line, where MYCR_ROOT's filesystem cannot enforce it. */
export function checkDiskQuota(root = dataRoot()): void {
  const at = existingAncestor(root);
  const type = statfsSync(at).type;
  const name = FS_NAMES[type] ?? `a filesystem of type 0x${type.toString(16)}`;
  const need = `--storage-opt size needs MYCR_ROOT on xfs or ext4 mounted with prjquota`;
  if (!QUOTA_FS.has(name)) throw new ContainerError(`${need}; ${root} is on ${name}`);
  let enforcing = false;
  try {
    enforcing = withDir(at, projectQuotaState).enforcing;
  } catch (e) {
    // ENOSYS, EINVAL, ESRCH, ENOTSUP: no quota interface on this mount or kernel.
    if (!(e instanceof SysError)) throw e;
  }
  if (!enforcing) throw new ContainerError(`${need}; ${root} is on ${name} without project quotas enforced`);
}

function projectIdOf(path: string): number {
  try {
    return withDir(path, (t) => getProjectId(t.fd));
  } catch {
    return 0; // gone, or a filesystem without project ids
  }
}

/** The lowest id of ours no container's upper dir holds (called under the engine lock). */
function freeProjectId(): number {
  const used = new Set<number>();
  let names: string[] = [];
  try {
    names = readdirSync(containersDir());
  } catch {
    // none yet
  }
  for (const name of names) used.add(projectIdOf(join(containersDir(), name, "upper")));
  for (let id = FIRST_ID; id < FIRST_ID + ID_COUNT; id++) if (!used.has(id)) return id;
  throw new ContainerError(`--storage-opt size: all ${ID_COUNT} of mycr's project ids are in use`);
}

/**
 * Gives the container's (empty) upper and work dirs a project id of their own and limits
 * it to `bytes`. Both dirs need the id: overlayfs copies up into work and renames into
 * upper, and a rename between projects fails (EXDEV). Run under the engine lock.
 */
export function limitContainerDisk(paths: ContainerRootfs, bytes: number): void {
  const id = freeProjectId();
  for (const dir of [paths.upper, paths.work]) withDir(dir, (t) => setProjectId(t.fd, id));
  withDir(paths.upper, (t) => setProjectBlockLimit(t, id, bytes));
}

/** Removes the limit of the project a container's upper dir holds, if it is one of mycr's. */
export function releaseContainerDisk(paths: ContainerRootfs): void {
  const id = projectIdOf(paths.upper);
  if (!ours(id)) return;
  withDir(paths.upper, (t) => setProjectBlockLimit(t, id, 0));
}
