// The cgroups room's front door: place a container's cgroup, find it again later.
// Mode (v1, v2, hybrid) comes from the mount table, never from a guess.
import { accessSync, constants, existsSync, readdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { join, posix } from "node:path";
import type { Resources } from "../spec/types";
import { wantsBlockIO } from "./blkio";
import { readPids } from "./files";
import { availableControllers, hostCgroups, selfCgroups, type HostCgroups } from "./hierarchy";
import { CgroupError, type Cgroup, type CgroupRecord } from "./types";
import { V1Cgroup } from "./v1";
import { V2Cgroup } from "./v2";
import { SystemdCgroup } from "./systemd/scope";
import { NoCgroup } from "./none";
import { expandSlice, scopeName } from "./systemd/unit-name";
import type { UserDelegation } from "./systemd/user-delegation";

export * from "./types";
export { hostCgroups, availableControllers } from "./hierarchy";
export { userDelegation, type UserDelegation } from "./systemd/user-delegation";
export { hostUid, systemdAvailable, userBusSocket } from "./systemd/bus-address";
export { noCgroupRefusal } from "./none";

/**
 * Who makes the container's cgroup: mycr itself through the filesystem, systemd, the
 * user's systemd (a rootless container's scope in the cgroup delegated to the user), or
 * nobody (rootless where nothing is delegated, none.ts).
 */
export type CgroupManager = "cgroupfs" | "systemd" | "systemd-user" | "none";

/** Where a rootless container's scope goes in the user's manager, as podman puts its own. */
const USER_SLICE = "user.slice";

let cachedHost: HostCgroups | null = null;
export function host(): HostCgroups {
  cachedHost ??= hostCgroups();
  return cachedHost;
}

/** Directory in a hierarchy mounted at `mount` (showing `root`) for the cgroup `path`. */
function dirIn(mount: string, root: string, path: string): string {
  const rel = root !== "/" && path.startsWith(root) ? path.slice(root.length) : path;
  return join(mount, rel);
}

interface Placement {
  /** Path in each hierarchy, given the caller's own path there. */
  path: (callerPath: string) => string;
  parent: (callerPath: string) => string | undefined;
}

/**
 * Where a container's cgroup goes: the spec's cgroupsPath (absolute: from the root of
 * each hierarchy; relative: under the caller's cgroup), else `mycr/<id>` under the
 * caller's cgroup, so that mycr run inside a limited cgroup stays inside it.
 */
function placement(id: string, cgroupsPath?: string): Placement {
  if (cgroupsPath?.startsWith("/")) return { path: () => posix.normalize(cgroupsPath), parent: () => undefined };
  if (cgroupsPath) return { path: (c) => posix.join(c, cgroupsPath), parent: () => undefined };
  return { path: (c) => posix.join(c, "mycr", id), parent: (c) => posix.join(c, "mycr") };
}

function recordFor(h: HostCgroups, where: Placement, self: Map<string, string>, v2CallerOverride?: string): CgroupRecord {
  const dirs: Record<string, string> = {};
  const parents: Record<string, string> = {};
  const add = (key: string, mount: string, root: string, caller: string) => {
    dirs[key] = dirIn(mount, root, where.path(caller));
    const p = where.parent(caller);
    if (p) parents[key] = dirIn(mount, root, p);
  };
  if (h.mode !== "v2") {
    // Named hierarchies (name=systemd) too, as runc does: they have no limits, but the
    // container's /sys/fs/cgroup mounts them, and a cgroup namespace shows each
    // hierarchy from the cgroup init was in. Left in ours, the container would see the
    // host's root there: every cgroup's name and the hierarchy's release_agent.
    for (const hier of h.v1) {
      const key = hier.controllers.join(",");
      add(key, hier.mount, hier.root, self.get(key) ?? "/");
    }
  }
  if (h.unified) add("", h.unified, h.unifiedRoot, v2CallerOverride ?? self.get("") ?? "/");
  return { mode: h.mode, dirs, parents };
}

export function openCgroup(record: CgroupRecord): Cgroup {
  if (record.none) return new NoCgroup(record.mode);
  if (record.systemd) return new SystemdCgroup(record, host().unified ?? "/sys/fs/cgroup");
  if (record.mode === "v2") return new V2Cgroup(record, host().unified ?? "/sys/fs/cgroup");
  return new V1Cgroup(record);
}

/** The systemd driver's scope for a container; it drives cgroup v2 only, as runc's does on v2 hosts. */
function systemdScope(id: string, cgroupsPath: string | undefined, h: HostCgroups) {
  if (h.mode !== "v2" || !h.unified) {
    throw new CgroupError(`the systemd cgroup manager (--systemd-cgroup) needs a pure cgroup v2 host; this one is ${h.mode} (use the cgroupfs manager)`);
  }
  return scopeName(id, cgroupsPath);
}

/** The config's org.systemd.property.* annotations as a scope's properties (read only for a scope). */
async function scopeProperties(annotations: Record<string, string> | undefined) {
  return (await import("./systemd/annotations")).annotationProperties(annotations);
}

/**
 * Creates the container's cgroup around `pid` (the container's init, waiting for its
 * config) and applies its limits; removes it again if that fails.
 */
export async function createCgroup(
  id: string,
  resources: Resources | undefined,
  cgroupsPath: string | undefined,
  pid: number,
  manager: CgroupManager = "cgroupfs",
  /** The config's annotations: org.systemd.property.* are extra properties of the scope. */
  annotations?: Record<string, string>,
): Promise<Cgroup> {
  const h = host();
  if (manager === "none") {
    const none = new NoCgroup(h.mode);
    if (resources) none.apply(resources);
    return none;
  }
  if (manager === "systemd") {
    return SystemdCgroup.create(systemdScope(id, cgroupsPath, h), pid, resources, h.unified!, await scopeProperties(annotations));
  }
  if (manager === "systemd-user") {
    // No device rules: attaching their eBPF program needs root's CAP_SYS_ADMIN, and in a
    // user namespace no device node can be made; what is bound into /dev keeps the
    // host's permissions (docs/rootless.md).
    const { devices: _devices, ...limits } = resources ?? {};
    // The OCI face's cgroupsPath (rootless podman's "user.slice:libpod:<id>") names the
    // slice in the user's manager; `mycr run` gives none and gets user.slice, as podman.
    const name = cgroupsPath ? systemdScope(id, cgroupsPath, h) : { ...systemdScope(id, undefined, h), slice: USER_SLICE };
    return SystemdCgroup.create(name, pid, resources ? limits : undefined, h.unified!, await scopeProperties(annotations), "user");
  }
  const self = selfCgroups();
  const where = placement(id, cgroupsPath);
  let cg = openCgroup(recordFor(h, where, self));
  // An existing cgroup with processes belongs to someone else (as runc refuses it too):
  // the container's would be killed with it when the container goes.
  for (const dir of Object.values(cg.record.dirs)) {
    if (readPids(dir).length > 0) throw new CgroupError(`cgroup ${dir} already has processes: a container needs a cgroup of its own`);
  }
  try {
    if (cg instanceof V2Cgroup) {
      try {
        cg.create();
      } catch (e) {
        // cgroup v2 forbids controllers below a cgroup that holds processes (ours, say, in
        // a login session): fall back to the root of the tree, as other cgroupfs runtimes do.
        if (cgroupsPath || !(e instanceof CgroupError) || !e.message.includes("EBUSY")) throw e;
        await cg.destroy();
        cg = openCgroup(recordFor(h, where, self, "/"));
        (cg as V2Cgroup).create();
      }
    } else {
      (cg as V1Cgroup).create(); // on hybrid hosts this includes the controller-less cgroup2 tree
    }
    if (resources) cg.apply(resources);
    cg.addProcess(pid);
    return cg;
  } catch (e) {
    await cg.destroy().catch(() => undefined);
    throw e;
  }
}

/**
 * Whether we may make this container's cgroup ourselves in every hierarchy: the nearest
 * existing directory of each is writable by us. Root on the host may; an ordinary user
 * (or root of a user namespace) only where a cgroup was delegated to it (runc's
 * rootless rule: without one, the container runs in no cgroup of its own).
 */
export function cgroupfsWritable(id: string, cgroupsPath?: string): boolean {
  const record = recordFor(host(), placement(id, cgroupsPath), selfCgroups());
  return Object.values(record.dirs).every((dir) => {
    let existing = dir;
    while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
    try {
      accessSync(existing, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Controllers a resources section needs, with the field that needs each. */
export function requiredControllers(r: Resources | undefined, mode: HostCgroups["mode"]): Array<{ field: string; controller: string }> {
  if (!r) return [];
  const out: Array<{ field: string; controller: string }> = [];
  const need = (cond: unknown, field: string, controller: string) => {
    if (cond !== undefined && cond !== null && cond !== false) out.push({ field, controller });
  };
  need(r.memory?.limit ?? r.memory?.reservation ?? r.memory?.swap, "memory", "memory");
  need(r.cpu?.shares ?? r.cpu?.quota ?? r.cpu?.period, "cpu", "cpu");
  need(r.cpu?.cpus || undefined, "cpu.cpus", "cpuset");
  need(r.cpu?.mems || undefined, "cpu.mems", "cpuset");
  need(r.pids?.limit, "pids", "pids");
  need(wantsBlockIO(r.blockIO) || undefined, "blockIO", mode === "v2" ? "io" : "blkio");
  need(r.hugepageLimits?.length || undefined, "hugepageLimits", "hugetlb");
  need(Object.keys(r.rdma ?? {}).length || undefined, "rdma", "rdma");
  if (mode !== "v2") {
    need(r.devices?.length || undefined, "devices", "devices");
    // on v2 the driver refuses these with its own words: v2 has no such controllers
    need(r.network?.classID, "network.classID", "net_cls");
    need(r.network?.priorities?.length || undefined, "network.priorities", "net_prio");
  }
  return out;
}

/** The first controller `resources` needs that the host (this one by default) does not have, or null. */
export function missingController(
  resources: Resources | undefined,
  h: HostCgroups = host(),
  have: Set<string> = availableControllers(h),
): { field: string; controller: string } | null {
  return requiredControllers(resources, h.mode).find((r) => !have.has(r.controller)) ?? null;
}

/**
 * The cgroups a container with this id and cgroupsPath may have, found without its
 * record (a mycr killed after creating the cgroup, before saving the record). With the
 * default placement on v2 that includes the fallback at the root of the tree.
 */
export function cgroupsOf(id: string, cgroupsPath?: string, manager: CgroupManager = "cgroupfs"): Cgroup[] {
  const h = host();
  // A user's scope whose init died is emptied and removed by the user's systemd by itself.
  if (manager === "none" || manager === "systemd-user") return [];
  if (manager === "systemd") {
    // A scope whose init died is emptied and removed by systemd by itself; one still
    // there is found by its unit's cgroup.
    try {
      const name = systemdScope(id, cgroupsPath, h);
      const dir = join(h.unified!, expandSlice(name.slice), name.unit);
      return existsSync(dir) ? [openCgroup({ mode: "v2", dirs: { "": dir }, parents: {}, systemd: name })] : [];
    } catch {
      return [];
    }
  }
  const self = selfCgroups();
  const found = [openCgroup(recordFor(h, placement(id, cgroupsPath), self))];
  if (!cgroupsPath && h.unified) found.push(openCgroup(recordFor(h, placement(id), self, "/")));
  return found.filter((cg) => Object.values(cg.record.dirs).some((d) => existsSync(d)));
}

/**
 * Removes the cgroups cgroupsOf() finds once they are empty (waiting up to `waitMs` for
 * a dying init to leave), and never kills: without a record nothing proves that the
 * processes in a cgroup at that path are the container's.
 */
export async function removeIfEmpty(cgroups: Cgroup[], waitMs = 2000): Promise<void> {
  for (const cg of cgroups) {
    const dirs = Object.values(cg.record.dirs);
    const deadline = Date.now() + waitMs;
    while (dirs.some((d) => readPids(d).length > 0) && Date.now() < deadline) await Bun.sleep(10);
    if (dirs.every((d) => readPids(d).length === 0)) await cg.destroy();
  }
}

/** No process in any of its directories, and none of them created within `minAgeMs`. */
function abandoned(record: CgroupRecord, minAgeMs: number): boolean {
  const now = Date.now();
  for (const dir of Object.values(record.dirs)) {
    try {
      if (now - statSync(dir).mtimeMs < minAgeMs) return false;
    } catch {
      continue; // not in this hierarchy
    }
    if (readPids(dir).length > 0) return false;
  }
  return true;
}

/**
 * Container cgroups in the default place (`mycr/<id>` under our own cgroup) whose id
 * `isKnown` does not claim, that are empty and older than `minAgeMs`: left by a mycr
 * that died between creating one and recording it. Others may belong to a container
 * whose state lives under another --root, or to a create in progress: never touched.
 * Returned ready to destroy.
 */
export function strayCgroups(isKnown: (id: string) => boolean, minAgeMs: number): Cgroup[] {
  const h = host();
  const self = selfCgroups();
  const ids = new Set<string>();
  const probe = recordFor(h, placement("probe"), self);
  for (const parent of Object.values(probe.parents)) {
    try {
      for (const e of readdirSync(parent, { withFileTypes: true })) if (e.isDirectory()) ids.add(e.name);
    } catch {
      // no such parent: nothing stray there
    }
  }
  return [...ids]
    .filter((id) => !isKnown(id))
    .map((id) => recordFor(h, placement(id), self))
    .filter((record) => abandoned(record, minAgeMs))
    .map(openCgroup);
}

/**
 * The first limit in `resources` whose controller the user's manager was not delegated,
 * with why in words (the caller names the field its way and says what to do), or null.
 */
export function undelegatedLimit(resources: Resources | undefined, d: UserDelegation): { field: string; reason: string } | null {
  const missing = missingController(resources, host(), d.controllers);
  if (!missing) return null;
  const have = [...d.controllers].join(" ") || "none";
  return { field: missing.field, reason: `the ${missing.controller} controller is not delegated to your user session (${d.root} has: ${have})` };
}
