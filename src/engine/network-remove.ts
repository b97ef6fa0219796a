// `mycr network rm NAME`: refused while containers hold addresses on the network (as
// docker refuses a network with active endpoints); otherwise the bridge, its rules,
// the IPAM state and the conflist go, all under the networks lock so no container
// attaches meanwhile.
import { DEFAULT_NETWORK, loadNetwork, networkLeases, removeConflist, withNetworksLock } from "../net/networks";
import { teardownNetwork } from "../net/teardown";
import { ContainerError } from "../runtime/errors";
import { containerDir } from "./paths";
import { ownerAlive, readRecord } from "./record";

/** "web (1a2b3c4d5e6f)" or the short id; whether the mycr that owns it is gone. */
function describe(root: string, id: string): { text: string; stale: boolean } {
  const record = id ? readRecord(containerDir(id, root)) : null;
  const short = id.slice(0, 12) || "an unknown container";
  return { text: record?.name ? `${record.name} (${short})` : short, stale: !ownerAlive(record) };
}

export function removeNetworkChecked(root: string, name: string): void {
  if (name === DEFAULT_NETWORK) throw new ContainerError(`the default network "${DEFAULT_NETWORK}" cannot be removed`);
  withNetworksLock(root, () => {
    let list;
    try {
      list = loadNetwork(root, name);
    } catch (e) {
      throw new ContainerError((e as Error).message);
    }
    const users = [...new Set(networkLeases(root, name).map((l) => l.containerId))].map((id) => describe(root, id));
    if (users.length > 0) {
      const hint = users.some((u) => u.stale) ? " (mycr gc releases those whose mycr died)" : "";
      throw new ContainerError(`network "${name}" has active endpoints: ${users.map((u) => u.text).join(", ")}: stop or remove them first${hint}`);
    }
    try {
      teardownNetwork(root, list);
    } catch (e) {
      throw new ContainerError((e as Error).message);
    }
    removeConflist(root, name);
  });
}
