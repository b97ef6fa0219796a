// `kill`: a signal to the container's init, or with --all to every process in its cgroup.
import { SIGNALS, kill } from "../sys";
import { openCgroup } from "../cgroups";
import { ContainerError } from "./errors";
import { containerStatus, type StateStore } from "./state";

/** "9", "KILL", "SIGKILL", "sigkill" -> 9. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const upper = text.toUpperCase();
    const n = SIGNALS[upper.startsWith("SIG") ? upper : `SIG${upper}`];
    if (n !== undefined) return n;
  }
  throw new ContainerError(`unknown signal "${text}" (use a name such as TERM or KILL, or a number)`);
}

export function killContainer(store: StateStore, id: string, signal: number, all = false): void {
  const record = store.load(id);
  const status = containerStatus(record);
  if (status === "stopped" || status === "creating") throw new ContainerError(`cannot kill container ${id}: it is ${status}`);
  if (all && record.cgroup) {
    for (const pid of openCgroup(record.cgroup).pids()) kill(pid, signal);
    return;
  }
  kill(record.init!.pid, signal);
}
