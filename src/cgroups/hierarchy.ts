// What the host has: cgroup mounts from the mount table, the caller's own cgroups.
import { readFileSync } from "node:fs";
import type { CgroupMode } from "./types";
import { unescapeMountPath } from "../sys/mount";

export interface V1Hierarchy {
  /** Mount point, e.g. /sys/fs/cgroup/cpu,cpuacct */
  mount: string;
  /** Controllers bound to it, e.g. ["cpu", "cpuacct"]; named hierarchies as "name=systemd". */
  controllers: string[];
  /** The path within this hierarchy the mount shows (usually "/"). */
  root: string;
}

export interface HostCgroups {
  mode: CgroupMode;
  v1: V1Hierarchy[];
  /** cgroup2 mount point, if any (the whole tree on v2, /sys/fs/cgroup/unified on hybrid). */
  unified: string | null;
  unifiedRoot: string;
}

/** Reads the cgroup mounts of our mount namespace; the first mount of each hierarchy wins. */
export function hostCgroups(mountinfo = readFileSync("/proc/self/mountinfo", "utf8")): HostCgroups {
  const v1: V1Hierarchy[] = [];
  let unified: string | null = null;
  let unifiedRoot = "/";
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const [fstype, , superOptions = ""] = line.slice(sep + 3).split(" ");
    const root = unescapeMountPath(left[3] ?? "/");
    const mount = unescapeMountPath(left[4] ?? "");
    if (fstype === "cgroup2" && unified === null) {
      unified = mount;
      unifiedRoot = root;
    } else if (fstype === "cgroup") {
      const controllers = superOptions.split(",").filter((o) => o !== "rw" && o !== "ro" && !o.startsWith("release_agent") && o !== "clone_children" && o !== "noprefix" && o !== "xattr");
      if (!v1.some((h) => h.controllers.join() === controllers.join())) v1.push({ mount, controllers, root });
    }
  }
  const usableV1 = v1.filter((h) => h.controllers.some((c) => !c.startsWith("name=")));
  const mode: CgroupMode = usableV1.length === 0 ? "v2" : unified !== null ? "hybrid" : "v1";
  return { mode, v1, unified, unifiedRoot };
}

/** The caller's cgroup per hierarchy: key "" for v2, else the controller list joined by ",". */
export function selfCgroups(text = readFileSync("/proc/self/cgroup", "utf8")): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.trim().split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    map.set(line.slice(first + 1, second), line.slice(second + 1));
  }
  return map;
}

/** Controllers the host can use: v1 hierarchies' plus cgroup2's (for v2 mode). */
export function availableControllers(host: HostCgroups): Set<string> {
  if (host.mode !== "v2") return new Set(host.v1.flatMap((h) => h.controllers).filter((c) => !c.startsWith("name=")));
  try {
    return new Set(readFileSync(`${host.unified}/cgroup.controllers`, "utf8").trim().split(/\s+/).filter(Boolean));
  } catch {
    return new Set();
  }
}
