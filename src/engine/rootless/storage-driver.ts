// How a rootless container's root filesystem is stacked: the kernel's overlayfs, mounted
// by init inside the container's user namespace (Linux 5.11 and later), or fuse-overlayfs
// (Debian's fuse-overlayfs, podman's answer for older kernels), a FUSE daemon that does
// the same in user space. MYCR_STORAGE_DRIVER=overlay|fuse-overlayfs chooses; unset, mycr
// asks the kernel once per boot (a trial overlay mount in its own user namespace) and
// takes fuse-overlayfs only where overlayfs is refused.
//
// fuse-overlayfs is mounted by this mycr, root of its user namespace, on the container's
// merged dir *before* init is spawned: init's mount namespace is a copy of ours taken
// then, and init binds the merged dir as its root as it would a bundle's. The container
// runs in a child user namespace, so the mount gets allow_other (the kernel then lets in
// any process of a descendant user namespace, and nobody else). The daemon goes when the
// last copy of its mount does: unmountFuseRoot detaches ours on every exit path (rootfs.ts),
// the container's went with its mount namespace.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../../runtime/errors";
import { SysError, detach, mount, umount } from "../../sys";

export type StorageDriver = "overlay" | "fuse-overlayfs";

const DRIVERS: StorageDriver[] = ["overlay", "fuse-overlayfs"];

/** MYCR_STORAGE_DRIVER, checked: undefined when unset. A detached run's is read by its client (detach.ts), not by the supervisor. */
export function requestedStorageDriver(env: Record<string, string | undefined> = process.env): StorageDriver | undefined {
  const value = env.MYCR_STORAGE_DRIVER;
  if (value === undefined || value === "") return undefined;
  if (!(DRIVERS as string[]).includes(value)) throw new ContainerError(`MYCR_STORAGE_DRIVER=${value}: mycr knows "overlay" (the kernel's) and "fuse-overlayfs" (rootless, for kernels before 5.11)`);
  return value as StorageDriver;
}

/** Whether the kernel mounts overlayfs in this (user) namespace: one trial mount, in a scratch dir under `dataRoot`. */
function overlayMountsHere(dataRoot: string): boolean {
  mkdirSync(dataRoot, { recursive: true, mode: 0o711 });
  const dir = mkdtempSync(join(dataRoot, "overlay-probe-"));
  try {
    for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(dir, d));
    try {
      mount("overlay", join(dir, "merged"), "overlay", 0, `lowerdir=${join(dir, "lower")},upperdir=${join(dir, "upper")},workdir=${join(dir, "work")},userxattr`);
    } catch (e) {
      if (e instanceof SysError) return false;
      throw e;
    }
    umount(join(dir, "merged"), 0);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The driver for a rootless run: the one asked for, else overlay where the kernel takes it (asked once per boot). */
export function rootlessStorageDriver(dataRoot: string, requested: StorageDriver | undefined): StorageDriver {
  if (requested) return requested;
  const marker = join(dataRoot, "overlay-in-userns");
  let boot = "";
  try {
    boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const [seen, answer] = existsSync(marker) ? readFileSync(marker, "utf8").split(" ") : [];
    if (seen === boot && answer !== undefined) return answer === "yes" ? "overlay" : "fuse-overlayfs";
  } catch {
    // asked again below
  }
  const works = overlayMountsHere(dataRoot);
  if (boot) writeFileSync(marker, `${boot} ${works ? "yes" : "no"}`, { mode: 0o600 });
  return works ? "overlay" : "fuse-overlayfs";
}

/** A root driver: only the kernel's overlay (fuse-overlayfs is a rootless fallback). */
export function assertRootStorageDriver(requested: StorageDriver | undefined): void {
  if (requested === "fuse-overlayfs") {
    throw new ContainerError("MYCR_STORAGE_DRIVER=fuse-overlayfs: for rootless runs (kernels before 5.11 refuse overlayfs in a user namespace); root's containers use the kernel's overlay");
  }
}

/** fuse-overlayfs's option list splits on ',' and its lowerdir on ':'; it has no escape for them. */
function checkPath(path: string): string {
  if (/[,:]/.test(path)) throw new ContainerError(`fuse-overlayfs: ${path}: a layer path with ',' or ':' cannot be given to it; use another directory`);
  return path;
}

/** The last line of fuse-overlayfs's complaint, with a hint for the common one. */
function explain(stderr: string): string {
  const last = stderr.split("\n").map((l) => l.trim()).filter(Boolean).at(-1) ?? "no message";
  if (/fuse/i.test(last) && /denied|not permitted|no such/i.test(last)) return `${last} (fuse-overlayfs needs /dev/fuse open to users: mode 0666, as udev sets it on most hosts)`;
  return last;
}

/** Mounts lowers + upper/work on `merged` with fuse-overlayfs (it goes to the background once mounted). */
export function mountFuseRoot(merged: string, lowers: string[], upper: string, work: string, asked: boolean): void {
  if (Bun.which("fuse-overlayfs") === null) {
    throw new ContainerError(
      asked
        ? "MYCR_STORAGE_DRIVER=fuse-overlayfs: fuse-overlayfs is not installed: apt-get install fuse-overlayfs"
        : "rootless: this kernel refuses overlayfs in a user namespace (Linux before 5.11) and fuse-overlayfs is not installed: apt-get install fuse-overlayfs",
    );
  }
  const options = `lowerdir=${lowers.map(checkPath).join(":")},upperdir=${checkPath(upper)},workdir=${checkPath(work)},allow_other`;
  const r = Bun.spawnSync(["fuse-overlayfs", "-o", options, merged], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new ContainerError(`fuse-overlayfs: ${explain(r.stderr.toString())}`);
}

/** Detaches a fuse-overlayfs root from `merged` (nothing mounted there: nothing to do). */
export function unmountFuseRoot(merged: string): void {
  try {
    detach(merged);
  } catch (e) {
    if (e instanceof SysError && (e.code === "EINVAL" || e.code === "ENOENT")) return;
    throw e;
  }
}
