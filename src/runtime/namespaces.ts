// The spec's linux.namespaces -> what the runtime creates and joins around spawning init.
// Who does what (docs/design-userns.md): the runtime's thread unshares and joins what a
// multithreaded process may (mount, UTS, IPC, network, PID) around a plain spawn; user
// and time namespaces need a single-threaded child (spawn-init.ts); init joins a mount
// namespace given by path itself, and unshares the cgroup namespace itself.
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
  time: CLONE.NEWTIME,
};

/** A namespace the container gets: a new one, or an existing one by path. */
export interface NamespaceChoice {
  path?: string;
}

export interface NamespacePlan {
  /** New mount, UTS, IPC, network and PID namespaces. */
  unshareFlags: number;
  /** Existing UTS, IPC, network, PID and cgroup namespaces (by path) init is spawned into. */
  joins: NamespaceJoin[];
  /** A mount namespace given by path: init joins it before setting up the root. */
  mountPath?: string;
  /** No mount namespace: the container shares the runtime's (spec mounts land there). */
  sharesMounts: boolean;
  user?: NamespaceChoice;
  time?: NamespaceChoice;
  /** init unshares the cgroup namespace itself, once it sits in its cgroup. */
  initUnsharesCgroup: boolean;
}

/** Parts of a valid namespace config mycr cannot honour, as one line (refuse.ts), or null. */
export function namespaceRefusal(spec: Spec): string | null {
  let plan: NamespacePlan;
  try {
    plan = planNamespaces(spec);
  } catch (e) {
    return (e as Error).message;
  }
  return refusal(spec, plan);
}

function refusal(spec: Spec, plan: NamespacePlan): string | null {
  const linux = spec.linux;
  const maps = (linux?.uidMappings?.length ?? 0) + (linux?.gidMappings?.length ?? 0);
  if (maps > 0 && (!plan.user || plan.user.path)) {
    return "linux.uidMappings: id mappings need a new user namespace; add {\"type\": \"user\"} (without a path) to linux.namespaces";
  }
  if (plan.user && !plan.user.path && (!linux?.uidMappings?.length || !linux?.gidMappings?.length)) {
    return "linux.uidMappings: a new user namespace needs linux.uidMappings and linux.gidMappings";
  }
  const offsets = Object.keys(linux?.timeOffsets ?? {});
  if (offsets.length > 0 && (!plan.time || plan.time.path)) {
    return "linux.timeOffsets: offsets need a new time namespace; add {\"type\": \"time\"} (without a path) to linux.namespaces";
  }
  const unknown = offsets.find((k) => k !== "monotonic" && k !== "boottime");
  if (unknown) return `linux.timeOffsets.${unknown}: only monotonic and boottime clocks have offsets`;
  if (plan.sharesMounts) {
    if (linux?.maskedPaths?.length || linux?.readonlyPaths?.length) {
      return "linux.maskedPaths: masking and read-only paths need a mount namespace of the container's own; add {\"type\": \"mount\"}";
    }
    if (spec.root?.readonly) return "root.readonly: a read-only root needs a mount namespace of the container's own; add {\"type\": \"mount\"}";
    if (linux?.rootfsPropagation) return "linux.rootfsPropagation: needs a mount namespace of the container's own; add {\"type\": \"mount\"}";
  }
  return null;
}

export function planNamespaces(spec: Spec): NamespacePlan {
  const namespaces: Namespace[] = spec.linux?.namespaces ?? [];
  const plan: NamespacePlan = { unshareFlags: 0, joins: [], sharesMounts: true, initUnsharesCgroup: false };
  const seen = new Set<string>();
  for (const ns of namespaces) {
    if (seen.has(ns.type)) throw new Error(`linux.namespaces: "${ns.type}" is listed twice`);
    seen.add(ns.type);
    const flag = FLAGS[ns.type];
    if (flag === undefined) throw new Error(`linux.namespaces: unknown namespace type "${ns.type}"`);
    const choice: NamespaceChoice = ns.path ? { path: ns.path } : {};
    if (ns.type === "user") plan.user = choice;
    else if (ns.type === "time") plan.time = choice;
    else if (ns.type === "mount") {
      plan.sharesMounts = false;
      if (ns.path) plan.mountPath = ns.path;
      else plan.unshareFlags |= flag;
    } else if (ns.path) plan.joins.push({ flag, path: ns.path });
    else if (ns.type === "cgroup") plan.initUnsharesCgroup = true;
    else plan.unshareFlags |= flag;
  }
  return plan;
}

/** User and time namespaces can only be entered by a single-threaded process (spawn-init.ts). */
export function needsSingleThreadedSpawn(plan: NamespacePlan): boolean {
  return plan.user !== undefined || plan.time !== undefined;
}
