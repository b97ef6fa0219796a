// The record of a detached container (`run -d`): MYCR_ROOT/containers/<id>/monitor.json.
// Written by the `run -d` caller, then by the container's monitor as the container
// starts, exits and restarts, and by stop/rm; it outlives the container until `rm`, so
// `ps -a`, `logs`, `wait` and `inspect` can tell what happened. Every change is a
// read-modify-write under the engine lock, so concurrent commands never lose one.
import { join } from "node:path";
import { writeFileAtomic } from "../runtime/atomic";
import { withLock } from "../sys/lock";
import { MONITOR_FILE, readDetached, type DetachedRecord } from "./detached-record";
import { containerDir, dataRoot } from "./paths";

export * from "./detached-record";

export function engineLockPath(root = dataRoot()): string {
  return join(root, "containers.lock");
}

/** Serialises every change to engine records (names, detached state) across mycr processes. */
export function withEngineLock<T>(fn: () => T): T {
  return withLock(engineLockPath(), fn);
}

export function writeDetached(record: DetachedRecord): void {
  writeFileAtomic(join(containerDir(record.id), MONITOR_FILE), JSON.stringify(record, null, 2));
}

/** Applies `change` to the current record under the lock; null when the record is gone (removed). */
export function updateDetached(id: string, change: (r: DetachedRecord) => void): DetachedRecord | null {
  return withEngineLock(() => {
    const rec = readDetached(id);
    if (!rec) return null;
    change(rec);
    writeDetached(rec);
    return rec;
  });
}
