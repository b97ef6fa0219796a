// The spec's mounts, made inside the container's mount namespace before pivot_root.
import { closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { MS, SysError, bind, mount, setPropagation } from "../../sys";
import type { Mount } from "../../spec/types";
import { mountCgroups } from "./cgroup-mount";
import { parseMountOptions } from "./mount-options";
import { resolveInRoot } from "./paths";

export interface MountContext {
  rootfs: string;
  bundle: string;
  /** false when the container shares the host's network namespace: sysfs cannot be mounted then. */
  newNetworkNamespace: boolean;
}

/** Creates the mount point inside the root: a directory, or a file when binding a file. */
function createMountPoint(target: string, wantFile: boolean, destination: string): void {
  let existing;
  try {
    existing = statSync(target);
  } catch {
    existing = null;
  }
  if (existing) {
    if (!wantFile && !existing.isDirectory()) {
      throw new Error(`mount ${destination}: ${destination} exists in the root filesystem and is not a directory`);
    }
    return;
  }
  if (wantFile) {
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    try {
      closeSync(openSync(target, "a", 0o644));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EISDIR") throw e;
    }
  } else {
    mkdirSync(target, { recursive: true, mode: 0o755 });
  }
}

function isBindMount(m: Mount): boolean {
  return m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind");
}

/** Turns the errors users meet into advice; others pass unchanged. */
export function explainMountError(e: unknown, type: string): unknown {
  if (e instanceof SysError && e.errno === 19 /* ENODEV */) {
    const hint = type === "overlay" ? "load it with `modprobe overlay`" : `load its module or use a kernel with ${type}`;
    return new Error(`the kernel has no ${type} filesystem: ${hint}`);
  }
  return e;
}

export function mountOne(m: Mount, ctx: MountContext): void {
  const target = resolveInRoot(ctx.rootfs, m.destination);
  const opts = parseMountOptions(m.options);

  if (isBindMount(m)) {
    if (!m.source) throw new Error(`mount ${m.destination}: a bind mount needs a source`);
    const source = isAbsolute(m.source) ? m.source : resolve(ctx.bundle, m.source);
    let sourceIsDir: boolean;
    try {
      sourceIsDir = statSync(source).isDirectory();
    } catch {
      throw new Error(`mount ${m.destination}: bind source ${source} does not exist`);
    }
    createMountPoint(target, !sourceIsDir, m.destination);
    bind(source, target, (opts.flags & MS.REC) !== 0);
    // Flags other than bind itself only take effect on a remount of the new bind.
    const extra = opts.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    if (extra !== 0) mount(null, target, null, MS.BIND | MS.REMOUNT | extra, null);
  } else if (m.type === "cgroup") {
    createMountPoint(target, false, m.destination);
    mountCgroups(target, opts.flags);
  } else {
    createMountPoint(target, false, m.destination);
    const type = m.type ?? "none";
    try {
      mount(m.source ?? type, target, type, opts.flags, opts.data || null);
    } catch (e) {
      // Without a network namespace of its own the kernel refuses a new sysfs; runc binds the host's.
      if (type === "sysfs" && e instanceof SysError && e.errno === 1 && !ctx.newNetworkNamespace) {
        bind("/sys", target, true);
        mount(null, target, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, null);
      } else {
        throw explainMountError(e, type);
      }
    }
  }
  for (const p of opts.propagation) setPropagation(target, p);
}

export function mountAll(mounts: Mount[], ctx: MountContext): void {
  for (const m of mounts) mountOne(m, ctx);
}
