// A "cgroup" mount from the spec (usually /sys/fs/cgroup, read-only): the cgroup
// filesystems as the host has them, mounted from inside the container's cgroup
// namespace so they show the container's own cgroup as their root.
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { hostCgroups, type HostCgroups } from "../../cgroups/hierarchy";
import { MS, mount } from "../../sys";

/** v2: the cgroup2 tree itself. v1 and hybrid: a tmpfs to hold one mount per hierarchy. */
export function mountCgroupBase(target: string, flags: number): HostCgroups {
  const host = hostCgroups();
  if (host.mode === "v2") mount("cgroup2", target, "cgroup2", flags, null);
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
    mount("cgroup", dir, "cgroup", flags, named ? `none,${named}` : h.controllers.join(","));
    // "cpu" and "cpuacct" point at "cpu,cpuacct" where they share a hierarchy
    if (h.controllers.length > 1) {
      for (const c of h.controllers) symlinkSync(dirName, join(target, c));
    }
  }
  if (host.unified) {
    const dir = join(target, "unified");
    mkdirSync(dir, { recursive: true });
    mount("cgroup2", dir, "cgroup2", flags, null);
  }
  if (flags & MS.RDONLY) mount(null, target, null, MS.REMOUNT | (flags & ~MS.RDONLY) | MS.RDONLY, "mode=755");
}
