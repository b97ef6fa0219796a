// Which cgroup a rootless container gets (docs/rootless.md, "Cgroups"), as podman
// decides it: a scope of the user's systemd manager, below the cgroup delegated to the
// user, on a pure cgroup v2 host whose user manager answers on the user's bus; none
// otherwise, said once per boot. A limit is applied only through a controller the user
// was delegated: one asked for without it is refused in one line naming both.
import { host, undelegatedLimit, userDelegation, type CgroupManager } from "../../cgroups";
import { ContainerError } from "../../runtime/errors";
import type { Resources } from "../../spec/types";
import { FLAG_OF_FIELD } from "../resource-flags";

const flagOf = (field: string) => FLAG_OF_FIELD[field] ?? `linux.resources.${field}`;

/**
 * "systemd-user" when the user's manager can hold the container, every limit asked for
 * having its controller delegated (throws, before anything exists, for one that is
 * not); "none" when there is no such manager (refuseRootless then refuses every limit).
 */
export async function rootlessCgroupManager(resources: Resources | undefined): Promise<CgroupManager> {
  const delegation = await userDelegation(host());
  if (!delegation) return "none";
  const refused = undelegatedLimit(resources, delegation);
  if (refused) {
    throw new ContainerError(`${flagOf(refused.field)}: ${refused.reason}; leave the flag out, or have the administrator add it to Delegate= of user@.service`);
  }
  return "systemd-user";
}
