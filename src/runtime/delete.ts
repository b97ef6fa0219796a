// `delete`: removes a stopped container's cgroup and state; --force kills it first.
import { cgroupsOf, openCgroup, removeIfEmpty } from "../cgroups";
import { kill } from "../sys/process";
import { ContainerError } from "./errors";
import { runHooks } from "./hooks";
import { warn } from "./warn";
import { isAlive } from "./procfs";
import { releaseSharedMounts } from "./shared-mounts";
import { claimedManager, containerStatus, type StateStore } from "./state";

export async function deleteContainer(store: StateStore, id: string, force = false): Promise<void> {
  const record = store.tryLoad(id);
  if (!record) {
    if (!store.ids().includes(id)) {
      if (force) return; // nothing to delete, as runc's --force
      store.load(id); // throws "does not exist"
    }
    // a directory without a record: a create in progress, or one that died half-way
    const claim = store.readClaim(id);
    if (claim && isAlive(claim.owner) && !force) {
      throw new ContainerError(`cannot delete container ${id}: it is being created (use --force)`);
    }
    // its cgroup may exist already: the record was to say where
    await removeIfEmpty(cgroupsOf(id, claim?.cgroupsPath, claimedManager(claim)));
    store.remove(id);
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
  releaseSharedMounts(record.spec, record.rootfs);
  for (const w of runHooks("poststop", record.spec, { id, bundle: record.bundle, status: "stopped" })) warn(w);
  store.remove(id);
}
