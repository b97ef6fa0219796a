// The spec's linux.namespaces -> what the runtime unshares and joins around spawning init.
import { CLONE, type NamespaceJoin } from "../sys";
import type { Namespace, NamespaceType, Spec } from "../spec/types";

const FLAGS: Record<NamespaceType, number> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: 0x80,
};

export interface NamespacePlan {
  /** Created by the parent's unshare before spawning init. */
  unshareFlags: number;
  /** Existing namespaces (by path) init is spawned into. */
  joins: NamespaceJoin[];
  /** init unshares the cgroup namespace itself, once it sits in its cgroup. */
  initUnsharesCgroup: boolean;
}

/** Parts of a valid config mycr cannot honour: refused, never silently ignored. */
function refuseUnsupported(spec: Spec): void {
  (spec.mounts ?? []).forEach((m, i) => {
    if (m.uidMappings?.length || m.gidMappings?.length) {
      throw new Error(`mounts[${i}]: idmapped mounts (uidMappings/gidMappings) are not supported by mycr yet`);
    }
  });
  if (spec.linux?.uidMappings?.length || spec.linux?.gidMappings?.length) {
    throw new Error("linux.uidMappings: user namespaces are not supported by mycr yet");
  }
}

export function planNamespaces(spec: Spec): NamespacePlan {
  refuseUnsupported(spec);
  const namespaces: Namespace[] = spec.linux?.namespaces ?? [];
  let unshareFlags = 0;
  const joins: NamespaceJoin[] = [];
  let initUnsharesCgroup = false;
  const seen = new Set<string>();
  for (const ns of namespaces) {
    if (seen.has(ns.type)) throw new Error(`linux.namespaces: "${ns.type}" is listed twice`);
    seen.add(ns.type);
    const flag = FLAGS[ns.type];
    if (flag === undefined) throw new Error(`linux.namespaces: unknown namespace type "${ns.type}"`);
    if (ns.type === "user" || ns.type === "time") {
      throw new Error(`linux.namespaces: "${ns.type}" namespaces are not supported by mycr yet`);
    }
    if (ns.path) joins.push({ flag, path: ns.path });
    else if (ns.type === "cgroup") initUnsharesCgroup = true;
    else unshareFlags |= flag;
  }
  // init mounts the root filesystem, /proc, /dev... and pivots into it: without a mount
  // namespace of its own that would happen to the host's (or another container's) mounts.
  if (!(unshareFlags & CLONE.NEWNS)) {
    const how = joins.some((j) => j.flag === CLONE.NEWNS) ? "joining an existing one is not supported" : "add {\"type\": \"mount\"}";
    throw new Error(`linux.namespaces: a new mount namespace is required (${how})`);
  }
  return { unshareFlags, joins, initUnsharesCgroup };
}
