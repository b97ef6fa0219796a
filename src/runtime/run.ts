// Create and start in one go, in the foreground: the container's stdio is ours,
// our signals are its signals, its exit status is ours.
import { close } from "../sys";
import { launch, type Launched, type LaunchOptions } from "./launch";
import { initFailure } from "./messages";
import { SIGNALS } from "../sys";
import { exitStatus, forwardSignals, type SignalForwarder } from "./signals";
import { trace } from "./trace";
import type { ProcessRef } from "./procfs";
import { runHooks } from "./hooks";
import { releaseSharedMounts } from "./shared-mounts";
import { warn as warnUser } from "./warn";
import { attachTerminal, type TerminalSession } from "./terminal";
import type { Cgroup } from "../cgroups";
import type { ContainerRecord, StateStore } from "./state";

/** Signals that end a container still being started, instead of being delivered late. */
const ABORTING = new Set(["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"]);

export interface ForegroundOptions extends Omit<LaunchOptions, "startImmediately"> {
  /** Installed by the caller before it created anything, so no signal can strand it. */
  signals?: SignalForwarder;
  /** With process.terminal: copy our stdin into the container's terminal (-i). */
  attachStdin?: boolean;
  /** Called once the container's process runs (after a successful execve). */
  onStarted?: (init: ProcessRef) => void;
  /** With process.terminal: takes the master instead of our own terminal (a detached container's log). */
  onConsole?: (master: number) => TerminalSession;
  /** Where warnings go (a failed hook, a cgroup left for gc); the process's sink when absent. */
  warn?: (message: string) => void;
  /**
   * With opts.keeper: called once the container runs, to tell the keeper to keep it
   * (launched.keeper.keep); the container is then the keeper's, and nothing here waits
   * for it or cleans up after it. Throwing drops it instead (cleaned up here).
   */
  handOver?: (launched: Launched) => void;
}

/** How long the last output of a container may take to arrive after it exited. */
export const DRAIN_MS = 2000;

export interface ForegroundResult {
  exitCode: number;
  /** Processes the kernel killed for exceeding the memory limit (from the cgroup's events). */
  oomKills: number;
  memoryLimit: number | null;
  /** Given to its keeper (opts.handOver): still running, no longer ours. */
  handedOver?: boolean;
}

/** Runs a container to completion. Its state and cgroup are removed before returning. */
export async function runForeground(opts: ForegroundOptions): Promise<ForegroundResult> {
  const signals = opts.signals ?? forwardSignals();
  const warn = opts.warn ?? warnUser;
  try {
    const launched = await launch({ ...opts, startImmediately: true });
    const { process: child, record, cgroup } = launched;
    let session: TerminalSession | null = null;
    let handedOver = false;
    const result = (exitCode: number): ForegroundResult => ({
      exitCode,
      oomKills: cgroup.oomKills(),
      memoryLimit: cgroup.stats().memoryLimit,
    });
    // Init killed if still running, then everything of it removed: unless it was handed over.
    const cleanUp = async (): Promise<void> => {
      child.kill(9);
      await child.exited;
      if (launched.sync >= 0) close(launched.sync);
      await removeStopped(opts.store, record, cgroup, warn);
    };
    try {
      // init closes its end on a successful execve; a message means exec failed.
      const after = launched.reader ? await launched.reader.nextAsync() : null; // the native init reported in launch
      if (after) throw initFailure(after);
      const early = signals.received.find((s) => ABORTING.has(s));
      if (early) return result(128 + SIGNALS[early]!);
      record.started = true;
      opts.store.save(record);
      opts.onStarted?.(record.init!);
      if (launched.console !== undefined && !opts.handOver) {
        session = opts.onConsole ? opts.onConsole(launched.console) : attachTerminal(launched.console, { stdin: opts.attachStdin ?? false });
      }
      const state = { id: record.id, pid: child.pid, bundle: record.bundle };
      for (const w of runHooks("poststart", opts.spec, { ...state, status: "running" })) warn(w);
      if (opts.handOver && launched.keeper) {
        opts.handOver(launched);
        handedOver = true;
        return { exitCode: 0, oomKills: 0, memoryLimit: null, handedOver: true };
      }
      signals.attach(child.pid);
      await child.exited;
      trace("run: container exited");
      if (session) await Promise.race([session.drained, Bun.sleep(DRAIN_MS)]);
      return result(exitStatus(child.exitCode, child.signalCode));
    } finally {
      // The user's terminal first: whatever else fails, it must be usable again.
      if (session) session.close();
      else if (launched.console !== undefined) close(launched.console);
      if (!handedOver) await cleanUp();
    }
  } finally {
    if (!opts.signals) signals.dispose();
  }
}

/**
 * What is left of a container whose init is gone: its cgroup, the mounts it made in our
 * namespace, its poststop hooks, its state. Also the supervisor's, for a container it
 * took over from its `run -d` (it has the record, not the launch).
 */
export async function removeStopped(store: StateStore, record: ContainerRecord, cgroup: Cgroup, warn: (message: string) => void): Promise<void> {
  try {
    await cgroup.destroy();
  } catch (e) {
    // The container's own exit status stays the answer; `mycr gc` retries later.
    warn(`cgroup not removed yet (mycr gc removes it later): ${(e as Error).message}`);
  }
  releaseSharedMounts(record.spec, record.rootfs);
  for (const w of runHooks("poststop", record.spec, { id: record.id, bundle: record.bundle, status: "stopped" })) warn(w);
  store.remove(record.id);
}
