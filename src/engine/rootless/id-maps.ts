// The id maps of a rootless mycr's user namespace, as podman lays them out: the user
// becomes root (0 -> uid), its subordinate ranges follow from 1 up. Written by the
// setuid helpers newuidmap/newgidmap (Debian's uidmap), which check the ranges against
// /etc/subuid and /etc/subgid; without ranges, a single-id map the user may write itself.
import { writeFileSync } from "node:fs";
import { writeIdMaps } from "../../runtime/idmap";
import type { IdMapping } from "../../spec/types";
import { readSubordinateRanges, userName, type IdRange } from "./subids";

export interface RootlessMaps {
  uid: IdMapping[];
  gid: IdMapping[];
  /** Set when the user has no subordinate ids: what to tell them. */
  notice?: string;
}

/** 0 -> own id, then the ranges one after another from 1. */
function layout(own: number, ranges: IdRange[]): IdMapping[] {
  const maps: IdMapping[] = [{ containerID: 0, hostID: own, size: 1 }];
  let next = 1;
  for (const r of ranges) {
    maps.push({ containerID: next, hostID: r.start, size: r.count });
    next += r.count;
  }
  return maps;
}

export function rootlessMaps(uid: number, gid: number, files = { subuid: "/etc/subuid", subgid: "/etc/subgid" }): RootlessMaps {
  const name = userName(uid);
  const user = { id: uid, ...(name !== undefined ? { name } : {}) };
  const subuids = readSubordinateRanges(files.subuid, user);
  const subgids = readSubordinateRanges(files.subgid, user);
  if (subuids.length > 0 && subgids.length > 0) return { uid: layout(uid, subuids), gid: layout(gid, subgids) };
  const who = name ?? String(uid);
  const missing = subuids.length === 0 ? files.subuid : files.subgid;
  return {
    uid: layout(uid, []),
    gid: layout(gid, []),
    notice:
      `no subordinate ids for ${who} in ${missing}: containers get a single id (root, which is you); ` +
      `images with files of other owners will not unpack (add ranges: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${who})`,
  };
}

/**
 * Writes the maps of the user namespace of `pid` (a child waiting for them). A single
 * mapping of our own ids we may write ourselves, once setgroups is denied (the kernel's
 * rule for unprivileged writers); anything more goes through the setuid helpers.
 */
export function writeRootlessMaps(pid: number, maps: RootlessMaps): void {
  if (maps.uid.length === 1 && maps.gid.length === 1) {
    const line = (m: IdMapping) => `${m.containerID} ${m.hostID} ${m.size}\n`;
    writeFileSync(`/proc/${pid}/setgroups`, "deny");
    writeFileSync(`/proc/${pid}/uid_map`, line(maps.uid[0]!));
    writeFileSync(`/proc/${pid}/gid_map`, line(maps.gid[0]!));
    return;
  }
  writeIdMaps(pid, maps.uid, maps.gid); // not root: through newuidmap/newgidmap
}
