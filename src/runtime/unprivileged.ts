// What a launch decides differently without root over the host: as an ordinary user (the
// OCI face as runc's rootless mode) or as root of a user's namespace (rootless podman's
// runtime). docs/rootless.md, "The OCI runtime without root".
import { cgroupfsWritable, noCgroupRefusal, type CgroupManager } from "../cgroups";
import type { Spec } from "../spec/types";
import { ContainerError } from "./errors";
import type { NamespacePlan } from "./namespaces";
import { isHostRoot } from "./rootless";

/**
 * Without root (an ordinary user's OCI face, or root of a user namespace such as rootless
 * podman's) and no cgroup writable by us, the container gets none, as with runc's
 * rootless mode: fine while the config asks for no limits; limits are refused in one line.
 */
export function chooseCgroupManager(id: string, spec: Spec, asked: CgroupManager): CgroupManager {
  if (isHostRoot() || asked !== "cgroupfs" || cgroupfsWritable(id, spec.linux?.cgroupsPath)) return asked;
  const refused = noCgroupRefusal(spec.linux?.resources);
  if (refused) throw new ContainerError(`config.json: ${refused}; remove the limit, or run as root`);
  return "none";
}

/**
 * The kernel lets only a process with CAP_SYS_ADMIN in its own user namespace setns: an
 * ordinary user on the host may join namespaces by path only after joining a user
 * namespace by path (as with runc). Said before anything exists.
 */
export function refuseUnjoinable(plan: NamespacePlan): void {
  const first = plan.joins[0];
  if (process.getuid?.() === 0 || !first || plan.user?.path) return;
  throw new ContainerError(
    `linux.namespaces: joining ${first.path} needs root of a user namespace (the kernel refuses setns to an ordinary user); give the user namespace that owns it by path too, or run mycr inside it (podman unshare, rootlesskit)`,
  );
}
