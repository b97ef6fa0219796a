// `mycr rm`: removes a container of either face. A running one only with force: it is
// killed, its supervisor (if detached) records the end and lets go, then everything goes.
import { ContainerError } from "../runtime/errors";
import { deleteContainer } from "../runtime/delete";
import { isAlive } from "../runtime/procfs";
import type { StateStore } from "../runtime/state";
import { kill } from "../sys";
import type { ContainerView } from "./containers";
import { readDetached, updateDetached, withEngineLock } from "./detached";
import { containerDir } from "./paths";
import { removeContainerFiles } from "./rootfs";
import { running, waitUntil } from "./stop";

const SIGKILL = 9;

export async function removeContainer(store: StateStore, view: ContainerView, force: boolean): Promise<void> {
  const name = view.name ?? view.id.slice(0, 12);
  if (running(view) && !force) {
    throw new ContainerError(`cannot remove container ${name}: it is ${view.state} (stop it first, or use -f)`);
  }
  const det = view.detached;
  if (!det) {
    // A foreground run belongs to its mycr, which removes it once init is dead.
    const owner = view.engine?.owner ?? view.runtime?.owner;
    if (owner && isAlive(owner)) {
      if (view.runtime?.init) kill(view.runtime.init.pid, SIGKILL);
      await waitUntil(() => !isAlive(owner), 10_000);
      return;
    }
    if (view.runtime) await deleteContainer(store, view.id, force);
    return;
  }
  updateDetached(view.id, (r) => (r.stopRequested = true));
  const rt = store.tryLoad(view.id);
  if (rt?.init && isAlive(rt.init)) kill(rt.init.pid, SIGKILL);
  // The supervisor records the end and lets go of the record (it keeps others: never kill it).
  await waitUntil(() => {
    const monitor = readDetached(view.id)?.monitor;
    return !monitor || !isAlive(monitor);
  }, 10_000);
  // A supervisor that died (killed) left the runtime's state and cgroup behind.
  if (store.tryLoad(view.id)) await deleteContainer(store, view.id, true);
  withEngineLock(() => removeContainerFiles(containerDir(view.id)));
}
