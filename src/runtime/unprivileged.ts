// What a launch decides differently without root over the host: as an ordinary user (the
// OCI face as runc's rootless mode) or as root of a user's namespace (rootless podman's
// runtime). docs/rootless.md, "The OCI runtime without root".
import { cgroupfsWritable, host, hostUid, noCgroupRefusal, undelegatedLimit, userBusSocket, userDelegation, type CgroupManager } from "../cgroups";
import type { Spec } from "../spec/types";
import { ContainerError } from "./errors";
import type { NamespacePlan } from "./namespaces";
import { isHostRoot } from "./rootless";

/**
 * Without root (an ordinary user's OCI face, or root of a user namespace such as rootless
 * podman's): --systemd-cgroup asks the user's own systemd manager for the scope, as runc
 * and crun do; the cgroupfs manager with no cgroup writable by us gives the container
 * none, as runc's rootless mode: fine while the config asks for no limits, limits are
 * refused in one line.
 */
export async function chooseCgroupManager(id: string, spec: Spec, asked: CgroupManager): Promise<CgroupManager> {
  if (isHostRoot()) return asked;
  if (asked === "systemd") return userScope(spec);
  if (asked !== "cgroupfs" || cgroupfsWritable(id, spec.linux?.cgroupsPath)) return asked;
  const refused = noCgroupRefusal(spec.linux?.resources);
  if (refused) throw new ContainerError(`config.json: ${refused}; remove the limit, or run as root`);
  return "none";
}

/**
 * "systemd-user" when the user's manager answers on the user's bus and was delegated
 * every controller the config's limits need; otherwise one line saying what is missing,
 * before anything exists. Never no cgroup instead: --systemd-cgroup asked for a scope.
 */
async function userScope(spec: Spec): Promise<CgroupManager> {
  const h = host();
  if (h.mode !== "v2") {
    throw new ContainerError(`the systemd cgroup manager (--systemd-cgroup) needs a pure cgroup v2 host; this one is ${h.mode} (leave --systemd-cgroup out)`);
  }
  const delegation = await userDelegation(h);
  if (!delegation) {
    const socket = userBusSocket();
    throw new ContainerError(
      `--systemd-cgroup without root needs your systemd user manager, and none answers ${socket ? `at ${socket}` : "(no user bus named)"}: ` +
        `set XDG_RUNTIME_DIR=/run/user/${hostUid()} (or DBUS_SESSION_BUS_ADDRESS=unix:path=...) in a login session or with \`loginctl enable-linger\`, or leave --systemd-cgroup out`,
    );
  }
  const refused = undelegatedLimit(spec.linux?.resources, delegation);
  if (refused) {
    throw new ContainerError(`config.json: linux.resources.${refused.field}: ${refused.reason}; remove the limit, or have the administrator add the controller to Delegate= of user@.service`);
  }
  return "systemd-user";
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
