// `delete`: removes a stopped container's cgroup and state; --force kills it first.
import { openCgroup } from "../cgroups";
import { kill } from "../sys";
import { ContainerError } from "./errors";
import { runHooks } from "./hooks";
import { warn } from "./warn";
import { isAlive } from "./procfs";
import { containerStatus, type StateStore } from "./state";

export async function deleteContainer(store: StateStore, id: string, force = false): Promise<void> {
  const record = store.tryLoad(id);
  if (!record) {
    // a directory without a record: a create that died half-way
    if (force || store.ids().includes(id)) {
      store.remove(id);
      return;
    }
    store.load(id); // throws "does not exist"
    return;
  }
  const status = containerStatus(record);
  if (status !== "stopped" && !force) {
    throw new ContainerError(`cannot delete container ${id}: it is ${status} (stop it first, or use --force)`);
  }
  if (record.init && isAlive(record.init)) kill(record.init.pid, 9);
  if (record.cgroup) {
    const cg = openCgroup(record.cgroup);
    if (status === "paused") cg.thaw();
    await cg.destroy();
  }
  for (let i = 0; i < 500 && record.init && isAlive(record.init); i++) await Bun.sleep(2);
  for (const w of runHooks("poststop", record.spec, { id, bundle: record.bundle, status: "stopped" })) warn(w);
  store.remove(id);
}
