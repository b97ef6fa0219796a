// `mycr gc`: removes what a mycr that died (SIGKILL, power cut) could not: runtime
// state of containers whose owner is gone, their processes, overlay mounts and files.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { cgroupsOf, openCgroup, removeIfEmpty, strayCgroups } from "../cgroups";
import { removeStaleStaging } from "../runtime/atomic";
import { kill } from "../sys";
import { isAlive } from "../runtime/procfs";
import { StateStore } from "../runtime/state";
import { containersDir } from "./paths";
import { ownerAlive, readRecord } from "./record";
import { detachNetwork, networkFiles, unpinNetns } from "./network";
import { removeContainerFiles, removeRootfsDirs } from "./rootfs";
import { effectiveStatus, readDetached, updateDetached } from "./detached";

/** A directory this young without a record may be a container being created right now. */
const GRACE_MS = 30_000;

export interface GcReport {
  removed: string[];
}

async function waitGone(ref: { pid: number; startTime: number }, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (isAlive(ref) && Date.now() < deadline) await Bun.sleep(10);
}

/** CNI DEL for a container whose mycr died (address, rules), and its pinned namespace. */
function releaseNetwork(id: string, dir: string): void {
  const network = readRecord(dir)?.network;
  if (network) {
    try {
      detachNetwork(network.list, id, network.result, network.netns, network.ports);
    } catch {
      // the plugins may be gone; the files still go
    }
  }
  unpinNetns(networkFiles(dir).netns); // pinned, but killed before its record said so
}

export async function collectGarbage(store: StateStore): Promise<GcReport> {
  const removed = new Set<string>();
  removeStaleStaging(store.root);
  for (const id of store.ids()) {
    const rec = store.tryLoad(id);
    if (!rec) {
      // Claimed, but the record never followed: a create in progress, or one whose mycr died.
      const claim = store.readClaim(id);
      const abandoned = claim ? !isAlive(claim.owner) : Date.now() - statSync(store.dir(id)).mtimeMs > GRACE_MS;
      if (abandoned) {
        await removeIfEmpty(cgroupsOf(id, claim?.cgroupsPath));
        store.remove(id);
        removed.add(id);
      }
      continue;
    }
    // Containers without an owner belong to an OCI client (podman, containerd): it deletes them.
    if (!rec.owner || isAlive(rec.owner)) continue;
    if (rec.init && isAlive(rec.init)) {
      kill(rec.init.pid, 9);
      await waitGone(rec.init, 5000);
    }
    if (rec.cgroup) await openCgroup(rec.cgroup).destroy();
    store.remove(id);
    removed.add(id);
  }
  removeStaleStaging(containersDir());
  let entries: string[] = [];
  try {
    entries = readdirSync(containersDir()).filter((name) => !name.startsWith("."));
  } catch {
    // nothing was ever created
  }
  for (const id of entries) {
    const dir = join(containersDir(), id);
    // A detached container is kept until `rm`, exited or not; one whose monitor was
    // killed gets its root removed and its record marked, so `ps -a` says what happened.
    const detached = readDetached(id);
    if (detached) {
      if (effectiveStatus(detached) === "dead" && !store.tryLoad(id)) {
        releaseNetwork(id, dir);
        removeRootfsDirs(dir);
        updateDetached(id, (r) => {
          r.status = "exited";
          r.error = "the container's monitor died; its exit code is unknown";
          r.finishedAt ??= new Date().toISOString();
          r.exitCode ??= -1;
          delete r.pid;
        });
        removed.add(id);
      }
      continue;
    }
    const record = readRecord(dir);
    if (ownerAlive(record)) continue;
    if (!record && Date.now() - statSync(dir).mtimeMs < GRACE_MS) continue;
    if (store.tryLoad(id)) continue; // still known to the runtime (an OCI container)
    releaseNetwork(id, dir);
    removeContainerFiles(dir, record?.keep ?? false);
    removed.add(id);
  }
  const known = (id: string) => store.tryLoad(id) !== null || existsSync(store.dir(id));
  for (const cg of strayCgroups(known, GRACE_MS)) {
    await cg.destroy();
    removed.add(basename(Object.values(cg.record.dirs)[0] ?? ""));
  }
  return { removed: [...removed] };
}
