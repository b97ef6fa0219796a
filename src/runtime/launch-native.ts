// launch's way with the native init (native-plan.ts): no second Bun start-up. The C
// child is cloned into the new namespaces in one call (sys/spawn-namespaced.ts's
// startInWindow) and waits while we put it in its cgroup and run the runtime's hooks;
// "go" then lets it finish its setup and execve. Errors come back as the step and errno,
// turned here into the same one-line errors Bun's init gives.
import { openSync } from "node:fs";
import { CLONE, O_CLOEXEC, O_PATH, SysError, close, kill, startInWindow, watchChild, type Keeper, type WindowChild } from "../sys";
import { createCgroup, type Cgroup } from "../cgroups";
import { withDefaultDevices } from "../security/devices";
import { ContainerError } from "./errors";
import { runHooks } from "./hooks";
import { ExecError } from "./lookpath";
import { explainMountError } from "./rootfs/mounts";
import { seccompCacheDir } from "./paths";
import { buildNativePlan } from "./native-plan";
import type { NamespacePlan } from "./namespaces";
import { processRef } from "./procfs";
import { setOomScoreAdj } from "./oom-score";
import type { ContainerRecord } from "./state";
import type { ContainerProcess } from "./spawn-init";
import { warnUnraisableAmbient } from "./security";
import { releaseSharedMounts } from "./shared-mounts";
import { trace } from "./trace";
import { warn } from "./warn";
import { makeExecFifo } from "./exec-fifo";
import { rootfsOf, type Launched, type LaunchOptions } from "./launch";

const WINDOW_NAMESPACES: Array<[number, string]> = [
  [CLONE.NEWNS, "mnt"], [CLONE.NEWUTS, "uts"], [CLONE.NEWIPC, "ipc"], [CLONE.NEWNET, "net"],
];

/** The error Bun's init would have reported for a failed step. */
function failure(e: unknown, args: string[]): unknown {
  if (!(e instanceof SysError)) return e;
  const name = args[0] ?? "";
  if (e.call === "exec") {
    // lookpath.ts's and init.ts's messages, told apart by the C's errno (exec_first)
    if (name === "") return new ExecError("no command given", 127);
    if (e.errno === 2) return new ExecError(name.includes("/") ? `"${name}": no such file or directory` : `"${name}": executable file not found in $PATH`, 127);
    if (e.errno === 79) return new ExecError(`"${name}": no such file or directory (or its interpreter is missing)`, 127);
    if (e.errno === 21) return new ExecError(`"${name}": is a directory`, 126);
    if (e.errno === 13) return new ExecError(`"${name}": permission denied`, 126);
    return new ExecError(`"${name}": cannot execute: execve: ${e.code}`, 126);
  }
  const mountPoint = /^mount (\/.*)$/.exec(e.call)?.[1];
  if (mountPoint && e.errno === 20) return new Error(`mount ${mountPoint}: a part of ${mountPoint} exists in the root filesystem and is not a directory`);
  if (mountPoint && e.errno === 19) return explainMountError(e, "the mount's");
  const cwd = /^process\.cwd (.*)$/.exec(e.call)?.[1];
  if (cwd && e.errno === 18) return new Error(`process.cwd ${cwd} leads outside the container's root filesystem`);
  return new Error(`${e.call}: ${e.code}`);
}

export function toContainerError(e: unknown, args: string[]): ContainerError {
  const f = failure(e, args);
  if (f instanceof ContainerError) return f;
  return new ContainerError((f as Error).message, f instanceof ExecError ? f.exitCode : 125);
}

/** Our fds for the child's 0, 1, 2 (what "ignore" opened is closed by the caller). */
function stdioFds(opts: LaunchOptions, opened: number[]): number[] {
  const given = opts.stdio ?? ["inherit", "inherit", "inherit"];
  return given.map((x, i) => {
    if (x === "inherit") return i;
    if (x === "ignore") return opened[opened.push(openSync("/dev/null", "r+")) - 1]!;
    return x;
  });
}

/**
 * Init when a keeper is its parent: not our child, so not one we can wait for. Killing
 * it with SIGKILL is the keeper's drop (it kills and reaps init, then exits); `exited`
 * resolves after that. The keeper's keep() makes it the supervisor's, which waits.
 */
function keptChild(pid: number, keeper: Keeper): ContainerProcess {
  let resolve!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolve = r));
  return {
    pid,
    exited,
    exitCode: null,
    signalCode: null,
    kill(signal = 15) {
      if (signal !== 9) return void kill(pid, signal);
      keeper.drop();
      resolve(137);
    },
    unref() {},
  };
}

export async function launchNative(opts: LaunchOptions, ns: NamespacePlan, bundle: string): Promise<Launched> {
  const { id, spec, store } = opts;
  let rootfs = "";
  const args = spec.process!.args ?? [];
  let started: WindowChild | null = null;
  let child: ContainerProcess | null = null;
  let cgroup: Cgroup | null = null;
  const opened: number[] = [];
  let master = -1;
  try {
    opts.prepareRoot?.();
    rootfs = rootfsOf(spec, bundle);
    // create: the child reopens the fifo (opened here, on the host, before the window) through a procfs of its own.
    const waitForStart = opts.startImmediately ? undefined : { fifoFd: opened[opened.push(openSync(makeExecFifo(store.dir(id)), O_PATH | O_CLOEXEC)) - 1]! };
    const plan = buildNativePlan(spec, ns, { id, rootfs, bundle, newKeyring: opts.newKeyring ?? true, seccompCacheDir: seccompCacheDir(), ...(waitForStart ? { waitForStart } : {}) });
    trace("launch: native plan");
    const saved = WINDOW_NAMESPACES.filter(([flag]) => ns.unshareFlags & flag).map(([, name]) => openSync(`/proc/thread-self/ns/${name}`, "r"));
    opened.push(...saved);
    const cwd = openSync(".", "r");
    opened.push(cwd);
    // With a terminal the child's 0-2 are its end of the pty by the time it execs.
    // --preserve-fds: our 3.. are the container's 3.. (the C closes everything else).
    const preserved = Array.from({ length: opts.preserveFds ?? 0 }, (_, i) => 3 + i);
    const fds = [...(plan.pty ? [0, 1, 2] : stdioFds(opts, opened)), ...preserved];
    try {
      started = startInWindow(
        { cloneFlags: plan.cloneFlags, steps: plan.child, path: args[0] ?? "", argv: plan.argv, env: plan.env, fds },
        { saved, cwd, steps: plan.window, ...(opts.keeper ? { keeper: opts.keeper } : {}) },
      );
    } finally {
      if (plan.pty && plan.pty.peer >= 0) opened.push(plan.pty.peer); // the child's copy is its own
      if (plan.pty) master = plan.pty.master;
    }
    child = started.keeper ? keptChild(started.pid, started.keeper) : watchChild(started.pid);
    trace("launch: native child cloned");
    const ref = processRef(child.pid);
    if (!ref) throw new ContainerError("container init exited during setup");
    await opts.prepare?.(child.pid);
    // The child waits for "go" as root: what Bun's init sets for itself, we set for it
    // (its rlimits are steps of its own: native-process-steps.ts).
    const proc = spec.process!;
    if (proc.oomScoreAdj !== undefined) setOomScoreAdj(proc.oomScoreAdj, child.pid);
    // No Bun in the child: pids.max can bind from the start.
    cgroup = await createCgroup(id, withDefaultDevices(spec.linux?.resources), spec.linux?.cgroupsPath, child.pid, opts.cgroupManager, spec.annotations);
    const record: ContainerRecord = {
      id, bundle, rootfs, created: new Date().toISOString(), spec, started: false, init: ref, cgroup: cgroup.record,
      ...(waitForStart ? { execFifo: true } : {}),
      // A keeper outlives us and cleans up after the container: it is the owner.
      ...(started.keeper ? { owner: processRef(started.keeper.pid)! } : opts.owner ? { owner: opts.owner } : { creator: processRef(process.pid)! }),
    };
    store.save(record);
    const hookState = { id, pid: child.pid, bundle, status: "creating" as const };
    runHooks("prestart", spec, hookState);
    runHooks("createRuntime", spec, hookState);
    try {
      started.go();
    } catch (e) {
      throw toContainerError(e, args);
    }
    trace(opts.startImmediately ? "launch: native child exec'd" : "launch: native child waits for start");
    warnUnraisableAmbient(spec.process?.capabilities, warn);
    if (record.creator) {
      // Started or created: from now on the container is its OCI client's to delete, not gc's (as launch.ts).
      delete record.creator;
      store.save(record);
    }
    const launched: Launched = { record, cgroup, process: child, sync: -1, ...(master >= 0 ? { console: master } : {}), ...(started.keeper ? { keeper: started.keeper } : {}) };
    master = -1; // the caller's now
    return launched;
  } catch (e) {
    started?.abort();
    if (child) {
      child.kill(9);
      await child.exited;
      releaseSharedMounts(spec, rootfs);
    }
    await cgroup?.destroy();
    store.remove(id);
    if (master >= 0) close(master);
    throw e instanceof ContainerError ? e : toContainerError(e, args);
  } finally {
    for (const fd of opened) close(fd);
  }
}
