// mounts[].uidMappings/gidMappings: idmapped bind mounts. The kernel lets only a process
// privileged over the source's superblock (the host's user namespace) idmap a mount, so
// the runtime makes them, detached, before init runs; init attaches each in its place
// (rootfs/mounts.ts). A mapping reads like the user namespace's: a file the source says
// `containerID` owns shows as owned by `hostID` in the container's view of the mount.
import { isAbsolute, resolve } from "node:path";
import { close, idmappedTree, userNamespaceFd } from "../sys";
import type { Mount, Spec } from "../spec/types";
import { writeIdMaps } from "./idmap";
import { isBindMount } from "./rootfs/mount-options";

/** The first idmapped mount mycr cannot make, as a one-line error, or null. */
export function idmappedMountRefusal(mounts: Mount[] = []): string | null {
  for (const [i, m] of mounts.entries()) {
    const uids = m.uidMappings?.length ?? 0;
    const gids = m.gidMappings?.length ?? 0;
    if (uids === 0 && gids === 0) continue;
    if (!isBindMount(m)) return `mounts[${i}].uidMappings: idmapped mounts are made of bind mounts only (add "rbind" or "bind" to options)`;
    if (uids === 0 || gids === 0) return `mounts[${i}].uidMappings: an idmapped mount needs both uidMappings and gidMappings`;
  }
  return null;
}

export interface IdmappedMounts {
  /** Detached mounts, in mount order; ours to close once init has them. */
  fds: number[];
  /** Index in spec.mounts -> index in fds. */
  byMount: Map<number, number>;
}

export function prepareIdmappedMounts(spec: Spec, bundle: string): IdmappedMounts {
  const made: IdmappedMounts = { fds: [], byMount: new Map() };
  try {
    for (const [i, m] of (spec.mounts ?? []).entries()) {
      if (!m.uidMappings?.length || !m.gidMappings?.length) continue;
      const source = isAbsolute(m.source ?? "") ? m.source! : resolve(bundle, m.source ?? "");
      const userns = userNamespaceFd((pid) => writeIdMaps(pid, m.uidMappings!, m.gidMappings!));
      try {
        made.byMount.set(i, made.fds.length);
        made.fds.push(idmappedTree(source, (m.options ?? []).includes("rbind"), userns));
      } finally {
        close(userns); // the mount holds the namespace now
      }
    }
    return made;
  } catch (e) {
    for (const fd of made.fds) close(fd);
    throw e;
  }
}
