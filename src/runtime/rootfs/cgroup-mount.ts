// A "cgroup" mount from the spec (usually /sys/fs/cgroup, read-only): the cgroup
// filesystems as the host has them, mounted from inside the container's cgroup
// namespace so they show the container's own cgroup as their root.
import { mkdirSync, symlinkSync } from "node:fs";
import { join, posix } from "node:path";
import { hostCgroups, selfCgroups, type HostCgroups } from "../../cgroups/hierarchy";
import { MS, SysError, bind, mount } from "../../sys";

const EPERM = 1;

/**
 * Mounts one hierarchy; where the kernel forbids it (a user namespace without a cgroup
 * namespace of its own: rootless, as `runc spec --rootless` writes it), binds the host's
 * directory of init's own cgroup there instead, as runc does: the container sees its
 * cgroup and below, read-only when the spec says so.
 */
function mountHierarchy(dir: string, flags: number, fstype: string, data: string | null, where: { mount: string; root: string; key: string }): void {
  try {
    mount(fstype, dir, fstype, flags, data);
    return;
  } catch (e) {
    if (!(e instanceof SysError) || e.errno !== EPERM) throw e;
  }
  const own = selfCgroups().get(where.key) ?? "/";
  const rel = where.root !== "/" && own.startsWith(where.root) ? own.slice(where.root.length) : own;
  bind(join(where.mount, posix.normalize(`/${rel}`)), dir, true);
  const locked = MS.NOSUID | MS.NODEV | MS.NOEXEC; // the host's cgroup mounts have them: a remount must keep them
  mount(null, dir, null, MS.BIND | MS.REMOUNT | MS.REC | locked | (flags & MS.RDONLY), null);
}

/** v2: the cgroup2 tree itself. v1 and hybrid: a tmpfs to hold one mount per hierarchy. */
export function mountCgroupBase(target: string, flags: number): HostCgroups {
  const host = hostCgroups();
  if (host.mode === "v2") mountHierarchy(target, flags, "cgroup2", null, { mount: host.unified!, root: host.unifiedRoot, key: "" });
  else mount("tmpfs", target, "tmpfs", flags & ~MS.RDONLY, "mode=755");
  return host;
}

/** v1 and hybrid: the hierarchies inside the tmpfs at `target`, like the host's /sys/fs/cgroup. */
export function populateCgroups(target: string, flags: number, host: HostCgroups): void {
  for (const h of host.v1) {
    const named = h.controllers.find((c) => c.startsWith("name="));
    const dirName = named ? named.slice(5) : h.controllers.join(",");
    const dir = join(target, dirName);
    mkdirSync(dir, { recursive: true });
    mountHierarchy(dir, flags, "cgroup", named ? `none,${named}` : h.controllers.join(","), { mount: h.mount, root: h.root, key: h.controllers.join(",") });
    // "cpu" and "cpuacct" point at "cpu,cpuacct" where they share a hierarchy
    if (h.controllers.length > 1) {
      for (const c of h.controllers) symlinkSync(dirName, join(target, c));
    }
  }
  if (host.unified) {
    const dir = join(target, "unified");
    mkdirSync(dir, { recursive: true });
    mountHierarchy(dir, flags, "cgroup2", null, { mount: host.unified, root: host.unifiedRoot, key: "" });
  }
  if (flags & MS.RDONLY) mount(null, target, null, MS.REMOUNT | (flags & ~MS.RDONLY) | MS.RDONLY, "mode=755");
}
