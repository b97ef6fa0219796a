// `kill`: a signal to the container's init, or with --all to every process in its cgroup.
import { SIGNALS } from "../sys/constants";
import { kill } from "../sys/signal";
import { cgroupPids } from "../cgroups/existing";
import { ContainerError } from "./errors";
import { containerStatus, type ContainerRecord, type StateStore } from "./state";

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

/**
 * As runc: without --all, only a created, running or paused container's init (a stopped
 * one's pid may belong to someone else by now); with --all, whatever is still in the
 * cgroup, also once init is gone (exec'd processes can outlive it) — containerd's shim
 * sends `kill --all KILL` after every exit for that. The error names the state as runc
 * does ("container not running"): containerd's shim reads that phrase as "already gone".
 */
export function killContainer(store: StateStore, id: string, signal: number, all = false): void {
  killRecorded(store.load(id), signal, all);
}

/** killContainer of a record already loaded. */
export function killRecorded(record: ContainerRecord, signal: number, all = false): void {
  const { id } = record;
  const status = containerStatus(record);
  if (status === "creating") throw new ContainerError(`cannot kill container ${id}: it is creating`);
  if (all && record.cgroup) {
    for (const pid of cgroupPids(record.cgroup)) kill(pid, signal);
    return;
  }
  if (status === "stopped") throw new ContainerError(`cannot kill container ${id}: container not running (it is stopped)`);
  kill(record.init!.pid, signal);
}
