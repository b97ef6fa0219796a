// `mycr stop`: the stop signal, a grace period, then SIGKILL. A detached container is
// marked first, so its monitor does not restart what a user stopped.
import { openCgroup } from "../cgroups";
import { isAlive } from "../runtime/procfs";
import type { StateStore } from "../runtime/state";
import { kill } from "../sys/signal";
import { refresh, type ContainerView } from "./containers";
import { updateDetached } from "./detached";

const SIGKILL = 9;

export function running(v: ContainerView): boolean {
  return v.state === "running" || v.state === "paused" || v.state === "restarting";
}

/** Waits until `done` holds or `ms` passed; whether it holds. */
export async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(20);
  }
  return true;
}

/** Waits for a detached container's monitor to record the exit (or die): `ps` then tells the truth. */
export async function settled(store: StateStore, id: string, ms: number): Promise<boolean> {
  return waitUntil(() => {
    const v = refresh(store, id);
    return !v || !running(v);
  }, ms);
}

export async function stopContainer(store: StateStore, view: ContainerView, timeoutSeconds: number, signal: number): Promise<void> {
  if (view.detached) updateDetached(view.id, (r) => (r.stopRequested = true));
  const rt = store.tryLoad(view.id);
  if (rt?.init && isAlive(rt.init)) {
    const cgroup = rt.cgroup ? openCgroup(rt.cgroup) : null;
    kill(rt.init.pid, signal);
    // a frozen container cannot act on the signal: let it
    if (cgroup?.frozen()) cgroup.thaw();
    if (!(await waitUntil(() => !isAlive(rt.init), timeoutSeconds * 1000))) {
      kill(rt.init.pid, SIGKILL);
      await waitUntil(() => !isAlive(rt.init), 10_000);
    }
  }
  if (view.detached) await settled(store, view.id, 10_000);
}
