// What `mycr gc` counts as left behind by a dead mycr: the one place that decides, for
// `mycr gc` and for the cheap look the creating commands take after their start.
// Every verdict rests on a process identity (pid and start time) being gone, which
// never reverses; what has no such record yet is given a grace period instead.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { isStaleStaging } from "../runtime/atomic";
import { isAlive } from "../runtime/procfs";
import { isContainerId, type Claim, type ContainerRecord, type StateStore } from "../runtime/state";
import { effectiveStatus, readDetached } from "./detached";
import { containersDir } from "./paths";
import { ownerAlive, readRecord } from "./record";

/** A directory this young without a record may be a container being created right now. */
export const GRACE_MS = 30_000;

export type StateFate =
  | { kind: "keep" }
  /** Claimed, the record never followed, and the claimant is gone (or never said who it was). */
  | { kind: "unrecorded"; claim: Claim | null }
  /** Recorded, and the mycr responsible for it (its owner, or its creator while creating) is gone. */
  | { kind: "orphaned"; record: ContainerRecord };

function olderThanGrace(dir: string): boolean {
  try {
    return Date.now() - statSync(dir).mtimeMs > GRACE_MS;
  } catch {
    return false; // removed meanwhile: nothing to collect
  }
}

/** The runtime's entry `id` in `store`. */
export function stateFate(store: StateStore, id: string): StateFate {
  const claim = store.readClaim(id);
  // The claimant is the container's owner or creator: alive, it is in use (the cheap case).
  if (claim && isAlive(claim.owner)) return { kind: "keep" };
  const record = store.tryLoad(id);
  if (!record) return claim || olderThanGrace(store.dir(id)) ? { kind: "unrecorded", claim } : { kind: "keep" };
  // Containers without an owner belong to an OCI client (podman, containerd): it deletes them.
  const responsible = record.owner ?? record.creator;
  return responsible && !isAlive(responsible) ? { kind: "orphaned", record } : { kind: "keep" };
}

export type ContainerDirFate = "keep" | "orphaned" | "dead-detached";

/** The engine's directory MYCR_ROOT/containers/<id>. Act on it under the engine lock. */
export function containerDirFate(store: StateStore, id: string): ContainerDirFate {
  const dir = join(containersDir(), id);
  const detached = readDetached(id);
  // A detached container is kept until `rm`, exited or not; a dead monitor's is marked.
  if (detached) return effectiveStatus(detached) === "dead" && !store.tryLoad(id) ? "dead-detached" : "keep";
  const record = readRecord(dir);
  if (ownerAlive(record)) return "keep";
  if (!record && !olderThanGrace(dir)) return "keep";
  if (store.tryLoad(id)) return "keep"; // still known to the runtime (an OCI container), or collected first
  return "orphaned";
}

/** Container ids in MYCR_ROOT/containers (one readdir). */
export function containerDirIds(): string[] {
  try {
    return readdirSync(containersDir()).filter((name) => !name.startsWith("."));
  } catch {
    return []; // nothing was ever created
  }
}

function anyStaleStaging(names: string[]): boolean {
  return names.some((n) => n.startsWith(".") && isStaleStaging(n));
}

/**
 * Whether anything in the state or containers directory is a dead mycr's to collect.
 * `own` (the container of the process asking, which is alive) is skipped: with no other
 * containers, the look is two readdirs.
 */
export function anythingAbandoned(store: StateStore, own?: string): boolean {
  const names = store.names();
  if (anyStaleStaging(names)) return true;
  if (names.some((n) => n !== own && isContainerId(n) && stateFate(store, n).kind !== "keep")) return true;
  let dirNames: string[] = [];
  try {
    dirNames = readdirSync(containersDir());
  } catch {
    return false;
  }
  if (anyStaleStaging(dirNames)) return true;
  // No lock for a look: a wrong "yes" costs a collection that decides again under the lock.
  return dirNames.some((n) => n !== own && !n.startsWith(".") && containerDirFate(store, n) !== "keep");
}
