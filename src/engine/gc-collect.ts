// The collection of `mycr gc` (gc.ts): removes what a mycr that died (SIGKILL, power
// cut) could not: runtime state of containers whose owner is gone, their processes,
// overlay mounts and files, networks, cgroups. See ./abandoned.ts for what counts as dead.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { cgroupsOf, openCgroup, removeIfEmpty, strayCgroups } from "../cgroups";
import { removeStaleStaging } from "../runtime/atomic";
import { kill, tryLock, unlock } from "../sys";
import { isAlive } from "../runtime/procfs";
import { releaseSharedMounts } from "../runtime/shared-mounts";
import { claimedManager, type StateStore } from "../runtime/state";
import { containersDir, dataRoot } from "./paths";
import { readRecord } from "./record";
import { detachNetwork, networkFiles, stopUserNetwork, unpinNetns } from "./network";
import { refreshNetworkHosts } from "./network-hosts";
import { removeContainerFiles, removeRootfsDirs } from "./rootfs";
import { releaseOrphanRanges } from "./userns-ranges";
import { removeOrphanRemappedRoots } from "./userns-auto";
import { readDetached, updateDetached, withEngineLock } from "./detached";
import { GRACE_MS, containerDirFate, containerDirIds, stateFate } from "./abandoned";

export interface GcReport {
  removed: string[];
}

async function waitGone(ref: { pid: number; startTime: number }, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (isAlive(ref) && Date.now() < deadline) await Bun.sleep(10);
}

/** CNI DEL for a container whose mycr died (address, rules), and its pinned namespace. */
async function releaseNetwork(id: string, dir: string): Promise<void> {
  const network = readRecord(dir)?.network;
  if (network) {
    try {
      await detachNetwork(network.list, id, network.result, network.netns, network.ports);
      refreshNetworkHosts(network.list.name); // its owner is dead: peers drop its line
    } catch {
      // the plugins may be gone; the files still go
    }
  }
  unpinNetns(networkFiles(dir).netns); // pinned, but killed before its record said so
  await stopUserNetwork(dir); // a rootless container's pasta or slirp4netns outlives its namespace
}

/** One collector at a time: two would both run CNI DEL and race on the same files. */
function gcLockPath(): string {
  return join(dataRoot(), "gc.lock");
}

async function lockGc(wait: boolean): Promise<number | null> {
  for (;;) {
    const fd = tryLock(gcLockPath());
    if (fd !== null || !wait) return fd;
    await Bun.sleep(20);
  }
}

/** The runtime's state of containers whose mycr is gone: their processes, cgroups, state. */
async function collectState(store: StateStore, removed: Set<string>): Promise<void> {
  removeStaleStaging(store.root);
  for (const id of store.ids()) {
    const fate = stateFate(store, id);
    if (fate.kind === "keep") continue;
    if (fate.kind === "unrecorded") {
      // Claimed, but the record never followed: the cgroup may exist, the record was to say where.
      await removeIfEmpty(cgroupsOf(id, fate.claim?.cgroupsPath, claimedManager(fate.claim)));
    } else {
      const rec = fate.record;
      if (rec.init && isAlive(rec.init)) {
        kill(rec.init.pid, 9);
        await waitGone(rec.init, 5000);
      }
      if (rec.cgroup) await openCgroup(rec.cgroup).destroy();
      releaseSharedMounts(rec.spec, rec.rootfs); // a container without a mount namespace mounted in ours
    }
    store.remove(id);
    removed.add(id);
  }
}

/** The engine's files (upper dirs, netns pins, networks) of containers whose mycr is gone. */
async function collectContainerDirs(store: StateStore, removed: Set<string>): Promise<void> {
  removeStaleStaging(containersDir());
  for (const id of containerDirIds()) {
    // Decided under the engine lock, as records are written: never on a half-made directory.
    const fate = withEngineLock(() => containerDirFate(store, id));
    if (fate === "keep") continue;
    const dir = join(containersDir(), id);
    await releaseNetwork(id, dir);
    if (fate === "dead-detached") {
      // A detached container is kept until `rm` (or its end, with --rm); one whose
      // supervisor was killed gets its root removed and its record marked, so `ps -a`
      // says what happened.
      removeRootfsDirs(dir);
      if (readDetached(id)?.autoRemove) {
        withEngineLock(() => removeContainerFiles(dir));
        removed.add(id);
        continue;
      }
      updateDetached(id, (r) => {
        r.status = "exited";
        r.error = "mycr's supervisor was killed, and the container with it; its exit code is unknown";
        r.finishedAt ??= new Date().toISOString();
        r.exitCode ??= -1;
        delete r.pid;
      });
    } else {
      withEngineLock(() => removeContainerFiles(dir, readRecord(dir)?.keep ?? false));
    }
    removed.add(id);
  }
}

async function collect(store: StateStore): Promise<GcReport> {
  const removed = new Set<string>();
  await collectState(store, removed);
  await collectContainerDirs(store, removed);
  withEngineLock(() => {
    removeOrphanRemappedRoots(dataRoot());
    releaseOrphanRanges();
  });
  const known = (id: string) => store.tryLoad(id) !== null || existsSync(store.dir(id));
  for (const cg of strayCgroups(known, GRACE_MS)) {
    await cg.destroy();
    removed.add(basename(Object.values(cg.record.dirs)[0] ?? ""));
  }
  return { removed: [...removed] };
}

/** `mycr gc`: everything dead owners left, waiting for a collector already at work. */
export async function collectGarbage(store: StateStore): Promise<GcReport> {
  const fd = await lockGc(true);
  try {
    return await collect(store);
  } finally {
    if (fd !== null) unlock(fd);
  }
}

/** The same, unless another process collects already (then it will). */
export async function collectUnlessBusy(store: StateStore): Promise<void> {
  const fd = await lockGc(false);
  if (fd === null) return;
  try {
    await collect(store);
  } finally {
    unlock(fd);
  }
}
