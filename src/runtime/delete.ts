// `delete`: removes a stopped container's cgroup and state; --force kills it first.
import { thawCgroup } from "../cgroups/existing";
import { destroyCgroup } from "../cgroups/teardown";
import { kill } from "../sys/signal";
import { ContainerError } from "./errors";
import { runHooks } from "./hooks";
import { warn } from "./warn";
import { isAlive, type ProcessRef } from "./procfs";
import { ownsPidNamespace, sharesRuntimeMounts } from "../spec/namespaces";
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
    const { cgroupsOf, removeIfEmpty } = await import("../cgroups");
    await removeIfEmpty(cgroupsOf(id, claim?.cgroupsPath, claimedManager(claim)));
    store.remove(id);
    return;
  }
  const status = containerStatus(record);
  if (status !== "stopped" && !force) {
    throw new ContainerError(`cannot delete container ${id}: it is ${status} (stop it first, or use --force)`);
  }
  // A paused init dies only once thawed.
  if (record.cgroup && status === "paused") thawCgroup(record.cgroup);
  if (record.init && isAlive(record.init)) kill(record.init.pid, 9);
  // With a PID namespace of its own the container ends with its init, so the cgroup is
  // empty once init is gone and destroyCgroup removes it at once. Otherwise (a shared or
  // joined PID namespace) destroyCgroup freezes the cgroup and kills what is left in it.
  if (ownsPidNamespace(record.spec)) await waitGone(record.init);
  if (record.cgroup) await destroyCgroup(record.cgroup);
  await waitGone(record.init);
  if (sharesRuntimeMounts(record.spec)) (await import("./shared-mounts")).releaseSharedMounts(record.spec, record.rootfs);
  for (const w of runHooks("poststop", record.spec, { id, bundle: record.bundle, status: "stopped" })) warn(w);
  store.remove(id);
}

/** Waits (up to ~1 s) until the process is gone: polled each millisecond, as a SIGKILL'd one goes in about one. */
async function waitGone(init: ProcessRef | undefined): Promise<void> {
  for (let i = 0; i < 1000 && init && isAlive(init); i++) await Bun.sleep(1);
}
