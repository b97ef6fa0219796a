// What a network is on the host besides its conflist: the bridge (the bridge plugin
// makes it at the first ADD and never removes it), that bridge's loopback guard rules
// and host-local's lease directory. `network rm` removes them all; the CNI plugins'
// per-container rules went with each container's DEL.
import { readdirSync, rmSync } from "node:fs";
import { deleteBridge } from "../sys";
import type { CniConflist } from "./cni";
import { unguardBridge } from "./loopback-guard";
import { bridgeOf, NetworkError, networkIpamDir } from "./networks";

/** Interfaces enslaved to the bridge (the host ends of containers' veths). */
export function bridgePorts(bridge: string): string[] {
  try {
    return readdirSync(`/sys/class/net/${bridge}/brif`);
  } catch {
    return [];
  }
}

/** Removes the network's bridge, guard rules and IPAM state; refuses while anything is plugged into the bridge. */
export function teardownNetwork(root: string, list: CniConflist): void {
  const bridge = bridgeOf(list);
  if (bridge) {
    const ports = bridgePorts(bridge);
    if (ports.length > 0) {
      throw new NetworkError(`network "${list.name}": bridge ${bridge} still has ${ports.join(", ")} attached (a container another mycr root started?): stop it, then try again`);
    }
    deleteBridge(bridge);
    // After the bridge: a container still on it would be guarded until the very end.
    unguardBridge(bridge);
  }
  rmSync(networkIpamDir(root, list.name), { recursive: true, force: true });
}
