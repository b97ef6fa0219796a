// docker's `start` of a detached container that exited: the same record (request, name,
// log) run again under the supervisor. Its root filesystem is a fresh one, as after a
// restart by --restart: mycr removes a container's upper dir when it exits.
import { ContainerError } from "../runtime/errors";
import { isAlive, processRef } from "../runtime/procfs";
import type { StateStore } from "../runtime/state";
import { refresh, type ContainerView } from "./containers";
import { readDetached, withEngineLock, writeDetached } from "./detached";
import { startSupervised } from "./supervisor-client";
import { waitUntil } from "./stop";

/** Starts `view` (a detached container) again; nothing to do when it runs. */
export async function startDetached(store: StateStore, view: ContainerView, ref: string): Promise<void> {
  if (view.state === "running" || view.state === "paused" || view.state === "restarting") return;
  if (view.state === "dead") throw new ContainerError(`cannot start container ${ref}: its supervisor was killed; run mycr gc, then start it`);
  // The supervisor may still be draining the last run's log: one writer at a time.
  await waitUntil(() => {
    const monitor = readDetached(view.id)?.monitor;
    return !monitor || !isAlive(monitor);
  }, 5000);
  withEngineLock(() => {
    const rec = readDetached(view.id);
    if (!rec || rec.status !== "exited") throw new ContainerError(`cannot start container ${ref}: it is ${refresh(store, view.id)?.state ?? "gone"}`);
    rec.status = "created";
    rec.stopRequested = false;
    rec.restartCount = 0;
    // We answer for it until the supervisor takes over: were we killed now, it is "dead"
    // (gc marks it exited), not a record that looks alive for ever.
    rec.monitor = processRef(process.pid)!;
    delete rec.error;
    writeDetached(rec);
  });
  // A failed start leaves the record as the monitor wrote it (exited, with the reason);
  // a supervisor that died before it could write is said to have.
  await startSupervised(view.id, () => {
    const rec = readDetached(view.id);
    if (!rec || rec.status === "exited") return;
    rec.status = "exited";
    rec.error ??= "mycr's supervisor exited before the container started";
    delete rec.monitor;
    writeDetached(rec);
  });
}
