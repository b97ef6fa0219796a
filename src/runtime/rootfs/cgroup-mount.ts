// A "cgroup" mount from the spec (usually /sys/fs/cgroup, read-only): the cgroup
// filesystems as the host has them, mounted from inside the container's cgroup
// namespace so they show the container's own cgroup as their root.
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { hostCgroups } from "../../cgroups/hierarchy";
import { MS, mount } from "../../sys";

export function mountCgroups(target: string, flags: number): void {
  const host = hostCgroups();
  if (host.mode === "v2") {
    mount("cgroup2", target, "cgroup2", flags, null);
    return;
  }
  // v1 and hybrid: a tmpfs holding one mount per hierarchy, like the host's /sys/fs/cgroup.
  const base = flags & ~MS.RDONLY;
  mount("tmpfs", target, "tmpfs", base, "mode=755");
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
  if (flags & MS.RDONLY) mount(null, target, null, MS.REMOUNT | base | MS.RDONLY, "mode=755");
}
