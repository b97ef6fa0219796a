// docker rename: a container's name is in its engine record (container.json) and, for a
// detached one, in its monitor record and the request a restart runs again. All three
// change under the engine lock, where names are claimed, so two renames cannot take
// the same name. On a user network its peers' hosts files follow (network-hosts.ts).
import { readRecord, updateRecord } from "./record";
import { assertNameFree, checkName } from "./names";
import { readDetached, withEngineLock, writeDetached } from "./detached";
import { containerDir } from "./paths";
import type { ContainerView } from "./containers";
import { ContainerError } from "../runtime/errors";
import { refreshNetworkHosts } from "./network-hosts";

export function renameContainer(view: ContainerView, newName: string): void {
  checkName(newName);
  if (!view.detached && !view.engine) throw new ContainerError(`container ${view.id.slice(0, 12)} was made by an OCI client, which names it by its id: it cannot be renamed`);
  withEngineLock(() => {
    assertNameFree(newName, view.id);
    const detached = readDetached(view.id);
    if (detached) {
      detached.name = newName;
      detached.request = { ...detached.request, name: newName };
      writeDetached(detached);
    }
    const record = readRecord(containerDir(view.id));
    if (!record) return;
    const network = record.network && { ...record.network, names: record.network.names?.map((n) => (n === record.name ? newName : n)) };
    updateRecord({ ...record, name: newName, ...(network ? { network } : {}) });
  });
  const network = readRecord(containerDir(view.id))?.network;
  if (network?.result) refreshNetworkHosts(network.list.name);
}
