// What the user's systemd manager (user@UID.service) has been delegated: its own cgroup
// and the controllers there. A rootless container's scope goes below it, and only those
// controllers can limit it (user@.service's Delegate= list decides which).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readCgroupFile } from "../files";
import type { HostCgroups } from "../hierarchy";
import { userBusSocket } from "./bus-address";
import type { SystemdManager } from "./manager";

export interface UserDelegation {
  /** The manager's cgroup, e.g. /user.slice/user-1000.slice/user@1000.service. */
  root: string;
  controllers: Set<string>;
}

/**
 * The delegation, or null when there is none to use: not pure cgroup v2, no user bus, or
 * no manager answering on it (no user session, no lingering).
 */
export async function userDelegation(h: HostCgroups): Promise<UserDelegation | null> {
  if (h.mode !== "v2" || !h.unified) return null;
  const socket = userBusSocket();
  if (!socket || !existsSync(socket)) return null;
  let m: SystemdManager;
  try {
    // the D-Bus client loads here, once a user's bus is there to ask
    m = await (await import("./manager")).SystemdManager.connect("user");
  } catch {
    return null;
  }
  try {
    const root = await m.rootCgroup();
    const controllers = (readCgroupFile(join(h.unified, root), "cgroup.controllers") ?? "").split(/\s+/).filter(Boolean);
    return { root, controllers: new Set(controllers) };
  } catch {
    return null; // something on the bus that is not systemd's manager
  } finally {
    m.close();
  }
}
