// The spec's mounts, made inside the container's mount namespace before pivot_root.
import { fstatSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { MS, SysError, attachMount, bind, close, fdPath, mount, setPropagation } from "../../sys";
import type { Mount } from "../../spec/types";
import { mountCgroupBase, populateCgroups } from "./cgroup-mount";
import { remountBind } from "./locked-flags";
import { isBindMount, parseMountOptions } from "./mount-options";
import { mountOverlay } from "./overlay";
import { openInRoot } from "./paths";

export interface MountContext {
  rootfs: string;
  bundle: string;
  /** false when the container shares the host's network namespace: sysfs cannot be mounted then. */
  newNetworkNamespace: boolean;
  /** linux.mountLabel (only given when SELinux is enabled: runtime/refuse.ts). */
  mountLabel?: string;
  /** Index in the spec's mounts -> fd of the idmapped mount the runtime made for it (idmapped-mounts.ts). */
  idmapped?: Record<string, number>;
}

/** Filesystems that take no SELinux context= option (as runc leaves them unlabelled). */
const UNLABELLED = new Set(["proc", "sysfs", "cgroup", "cgroup2", "securityfs", "debugfs"]);

/** Filesystem data with linux.mountLabel as the mount's SELinux context. */
function labelled(data: string, type: string, label: string | undefined): string {
  if (!label || UNLABELLED.has(type)) return data;
  const context = `context="${label}"`;
  return data ? `${data},${context}` : context;
}

/**
 * An O_PATH fd of the mount point inside the root, created if missing: a directory,
 * or a file when binding a file. The fd, not a path, is what gets mounted on (see
 * openInRoot), so the target cannot be swapped for a symlink after this check.
 */
function openMountPoint(ctx: MountContext, destination: string, wantFile: boolean): number {
  let fd: number;
  try {
    fd = openInRoot(ctx.rootfs, destination, wantFile ? "file" : "dir");
  } catch (e) {
    if (e instanceof SysError && e.errno === 20) {
      throw new Error(`mount ${destination}: a part of ${destination} exists in the root filesystem and is not a directory`);
    }
    throw e;
  }
  if (!wantFile && !fstatSync(fd).isDirectory()) {
    close(fd);
    throw new Error(`mount ${destination}: ${destination} exists in the root filesystem and is not a directory`);
  }
  return fd;
}

/** Runs `fn` with the /proc/self/fd path of the mount point, opened afresh (so it sees mounts made since). */
function atMountPoint<T>(ctx: MountContext, destination: string, wantFile: boolean, fn: (target: string) => T): T {
  const fd = openMountPoint(ctx, destination, wantFile);
  try {
    return fn(fdPath(fd));
  } finally {
    close(fd);
  }
}

/** Turns the errors users meet into advice; others pass unchanged. */
export function explainMountError(e: unknown, type: string): unknown {
  if (e instanceof SysError && e.errno === 19 /* ENODEV */) {
    const hint = type === "overlay" ? "load it with `modprobe overlay`" : `load its module or use a kernel with ${type}`;
    return new Error(`the kernel has no ${type} filesystem: ${hint}`);
  }
  return e;
}

/** A bind mount's source on the host (relative ones are the bundle's), and whether it is a directory. */
export function bindSource(m: Mount, bundle: string): { source: string; isDir: boolean } {
  if (!m.source) throw new Error(`mount ${m.destination}: a bind mount needs a source`);
  const source = isAbsolute(m.source) ? m.source : resolve(bundle, m.source);
  try {
    return { source, isDir: statSync(source).isDirectory() };
  } catch {
    throw new Error(`mount ${m.destination}: bind source ${source} does not exist`);
  }
}

export function mountOne(m: Mount, ctx: MountContext, index = -1): void {
  const opts = parseMountOptions(m.options);
  let wantFile = false;

  if (isBindMount(m)) {
    const { source, isDir } = bindSource(m, ctx.bundle);
    wantFile = !isDir;
    const idmapped = ctx.idmapped?.[String(index)];
    if (idmapped !== undefined) {
      const point = openMountPoint(ctx, m.destination, wantFile);
      try {
        attachMount(idmapped, point, m.destination);
      } finally {
        close(point);
        close(idmapped);
      }
    } else atMountPoint(ctx, m.destination, wantFile, (target) => bind(source, target, (opts.flags & MS.REC) !== 0));
    // Flags other than bind itself only take effect on a remount of the new bind,
    // reached by opening the mount point again: the old fd still names what is under it.
    const extra = opts.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    if (extra !== 0) atMountPoint(ctx, m.destination, wantFile, (target) => remountBind(target, extra, source));
  } else if (m.type === "cgroup") {
    // The hierarchies go inside what the first step mounted: reopen to reach it.
    const host = atMountPoint(ctx, m.destination, false, (target) => mountCgroupBase(target, opts.flags));
    if (host.mode !== "v2")
    atMountPoint(ctx, m.destination, false, (target) => populateCgroups(target, opts.flags, host));
  } else {
    const type = m.type ?? "none";
    let boundHostSys = false;
    atMountPoint(ctx, m.destination, false, (target) => {
      try {
        const data = labelled(opts.data, type, ctx.mountLabel);
        if (type === "overlay") mountOverlay(m.source ?? type, target, { ...opts, data });
        else mount(m.source ?? type, target, type, opts.flags, data || null);
      } catch (e) {
        // Without a network namespace of its own the kernel refuses a new sysfs; runc binds the host's.
        if (type === "sysfs" && e instanceof SysError && e.errno === 1 && !ctx.newNetworkNamespace) {
          bind("/sys", target, true);
          boundHostSys = true;
        } else {
          throw explainMountError(e, type);
        }
      }
    });
    if (boundHostSys) {
      atMountPoint(ctx, m.destination, false, (target) =>
        mount(null, target, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, null),
      );
    }
  }
  if (opts.propagation.length > 0) {
    atMountPoint(ctx, m.destination, wantFile, (target) => {
      for (const p of opts.propagation) setPropagation(target, p);
    });
  }
}

export function mountAll(mounts: Mount[], ctx: MountContext): void {
  mounts.forEach((m, i) => mountOne(m, ctx, i));
}
