// `exec`: a new process in a running container's namespaces and cgroup. The native exec
// (exec-native.ts) starts it from a C child; otherwise, like init, it is a fresh mycr
// process that joins the mount namespace itself (see init.ts).
import { closeSync, openSync, statSync, writeFileSync } from "node:fs";
import { CLONE, close, kill, receiveFd, socketPair, type NamespaceJoin } from "../sys";
import { requireConsoleSocket, sendConsole } from "./console-socket";
import { attachTerminal, type TerminalSession } from "./terminal";
import { cgroupPids, joinCgroup } from "../cgroups/existing";
import type { Process, Spec } from "../spec/types";
import { USER_ANNOTATION } from "./annotations";
import { ContainerError } from "./errors";
import type { Stdio } from "./launch";
import { MessageReader, initFailure, sendMessage, type InitMessage } from "./messages";
import { containerSelfCommand } from "./self";
import { spawnInit, type ChildStdio, type ContainerProcess } from "./spawn-init";
import type { NamespacePlan } from "./namespaces";
import { warnUnraisableAmbient } from "./security";
import { processRefusal } from "./refuse";
import { warn } from "./warn";
import { seccompCacheDir } from "./paths";
import { exitStatus, forwardSignals } from "./signals";
import { containerStatus, type ContainerRecord, type StateStore } from "./state";
import { heldInitRefusal, holdInit, nativeExecRefusal, releaseInit, startNativeExec, type HeldInit, type StartedExec } from "./exec-native";
import { isAlive } from "./procfs";
import { trace } from "./trace";

export interface ExecOptions {
  store: StateStore;
  id: string;
  /** The container's record, when the caller has just read it (else it is read here). */
  record?: ContainerRecord;
  process: Process;
  /** Return once the process runs (its pid in pidFile); its parent becomes our caller's subreaper. */
  detached: boolean;
  pidFile?: string;
  /** With process.terminal: where to send the terminal (else a foreground exec attaches it here). */
  consoleSocket?: string;
  stdio?: Stdio;
  /**
   * USER[:GROUP] to look up in the container's /etc (as run -u); null: process.user as
   * given; undefined: as the container runs (its own -u, if it had one).
   */
  user?: string | null;
}

/** The spec init sees: the container's, with this process and who it runs as. */
function execSpec(spec: Spec, process: Process, user: string | null | undefined): Spec {
  const annotations = { ...spec.annotations };
  if (user === null) delete annotations[USER_ANNOTATION];
  else if (user !== undefined) annotations[USER_ANNOTATION] = user;
  return { ...spec, process, annotations };
}

/** exec's extra fds: init-fd.ts's sync (3) and console (4) sockets, then the mount namespace. */
const MOUNT_NS_FD = 5;

const JOINED: Array<[number, string]> = [
  [CLONE.NEWIPC, "ipc"],
  [CLONE.NEWUTS, "uts"],
  [CLONE.NEWNET, "net"],
  [CLONE.NEWCGROUP, "cgroup"],
  [CLONE.NEWPID, "pid"],
];

function sameNamespace(pid: number, name: string): boolean {
  try {
    const theirs = statSync(`/proc/${pid}/ns/${name}`);
    const ours = statSync(`/proc/self/ns/${name}`);
    return theirs.ino === ours.ino && theirs.dev === ours.dev;
  } catch {
    return false; // joining says what is wrong
  }
}

/** The container's namespaces, all joined; user and time ones by the single-threaded child. */
function execPlan(spec: Spec, initPid: number): NamespacePlan {
  // Namespaces the container shares with us (runc spec --rootless keeps the host's network)
  // need no joining; joining them from its user namespace would fail: they are not its own.
  const joins: NamespaceJoin[] = JOINED.filter(([, name]) => !sameNamespace(initPid, name)).map(([flag, name]) => ({ flag, path: `/proc/${initPid}/ns/${name}` }));
  const has = (type: string) => (spec.linux?.namespaces ?? []).some((n) => n.type === type);
  return {
    unshareFlags: 0,
    joins,
    sharesMounts: false,
    initUnsharesCgroup: false,
    ...(has("user") ? { user: { path: `/proc/${initPid}/ns/user` } } : {}),
    ...(has("time") ? { time: { path: `/proc/${initPid}/ns/time` } } : {}),
  };
}

/** Bun's init (init.ts in exec mode) joins the container and execs the process. */
async function startBunExec(opts: ExecOptions, record: ContainerRecord, spec: Spec): Promise<StartedExec> {
  const terminal = opts.process.terminal === true;
  const initPid = record.init!.pid;
  const mountNs = openSync(`/proc/${initPid}/ns/mnt`, "r");
  let child: ContainerProcess | null = null;
  const [ours, theirs] = socketPair();
  const [consoleOurs, consoleTheirs] = terminal ? socketPair() : [-1, -1];
  try {
    const given = opts.stdio ?? ["inherit", "inherit", "inherit"];
    // fd 4 is the console socket when there is a terminal; /dev/null holds its place otherwise.
    const stdio: ChildStdio = terminal ? ["ignore", given[1], given[2], theirs, consoleTheirs, mountNs] : [...given, theirs, "ignore", mountNs];
    const { command, argv0 } = containerSelfCommand("init");
    try {
      child = spawnInit({ plan: execPlan(record.spec, initPid), command, argv0, stdio, env: {} });
    } finally {
      close(theirs);
      if (consoleTheirs >= 0) close(consoleTheirs);
      closeSync(mountNs);
    }
    if (record.cgroup) joinCgroup(record.cgroup, child.pid);
    sendMessage(ours, {
      type: "config",
      config: {
        id: opts.id,
        spec,
        rootfs: record.rootfs,
        bundle: record.bundle,
        noPivot: false,
        startImmediately: true,
        exec: { mountNamespaceFd: MOUNT_NS_FD, detached: opts.detached },
        seccompCacheDir: seccompCacheDir(),
      },
    });
    const reader = new MessageReader<InitMessage>(ours);
    const ready = reader.next();
    if (ready?.type !== "ready") throw initFailure(ready);
    // It joined by paths under /proc/PID: still that init now (and in the container's
    // cgroup: start times tick at 10 ms), so they were its namespaces.
    if (!isAlive(record.init) || !inContainerCgroup(record, record.init!.pid)) throw new ContainerError(`cannot exec in container ${opts.id}: it is stopped`);
    const master = terminal ? receiveFd(consoleOurs) : undefined;
    const after = reader.next(); // EOF: execve happened
    if (after) {
      if (master !== undefined) close(master);
      throw initFailure(after);
    }
    return { child, ...(master !== undefined ? { master } : {}) };
  } catch (e) {
    if (child && child.exitCode === null) {
      kill(child.pid, 9);
      await child.exited;
    }
    throw e;
  } finally {
    close(ours);
    if (consoleOurs >= 0) close(consoleOurs);
  }
}

/**
 * Whether `pid` is one of the container's cgroup's processes; true where that tells
 * nothing (no cgroup, or one nothing was placed in: rootless without a writable one).
 */
function inContainerCgroup(record: ContainerRecord, pid: number): boolean {
  if (!record.cgroup) return true;
  const pids = cgroupPids(record.cgroup);
  return pids.length === 0 || pids.includes(pid);
}

/**
 * The native exec where it covers the process (MYCR_INIT=auto, the default), always
 * (native: refusing what it does not cover), or never (bun). Null: Bun's init.
 */
function chooseNativeExec(id: string, record: ContainerRecord, spec: Spec): HeldInit | null {
  const mode = process.env.MYCR_INIT ?? "auto";
  if (mode === "bun") return null;
  if (mode !== "native" && mode !== "auto") throw new ContainerError(`MYCR_INIT=${mode}: use bun, native or auto`);
  let held: HeldInit | null = null;
  let refused = nativeExecRefusal(spec);
  if (!refused) {
    held = holdInit(record.init!, (pid) => inContainerCgroup(record, pid));
    if (!held) throw new ContainerError(`cannot exec in container ${id}: it is stopped`);
    refused = heldInitRefusal(held);
  }
  if (!refused) {
    trace("exec: native");
    return held;
  }
  if (held) releaseInit(held);
  if (mode === "native") throw new ContainerError(`MYCR_INIT=native: the native exec does not cover ${refused}; unset MYCR_INIT to use Bun's init`);
  trace(`exec: Bun's init (the native exec does not cover ${refused})`);
  return null;
}

/** Runs the process; returns its exit status, or 0 once it started when detached. */
export async function execInContainer(opts: ExecOptions): Promise<number> {
  const terminal = opts.process.terminal === true;
  if (opts.detached) requireConsoleSocket(terminal, opts.consoleSocket, "exec --detach");
  const record = opts.record ?? opts.store.load(opts.id);
  const status = containerStatus(record);
  if (status !== "running") throw new ContainerError(`cannot exec in container ${opts.id}: it is ${status}`);
  const refused = processRefusal(opts.process);
  if (refused) throw new ContainerError(refused);
  const spec = execSpec(record.spec, opts.process, opts.user);
  const signals = forwardSignals();
  let session: TerminalSession | null = null;
  let child: ContainerProcess | null = null;
  try {
    const held = chooseNativeExec(opts.id, record, spec);
    const stdio = opts.stdio ?? ["inherit", "inherit", "inherit"];
    const started = held
      ? await startNativeExec({ record, spec, held, detached: opts.detached, stdio })
      : await startBunExec(opts, record, spec);
    child = started.child;
    const master = started.master;
    warnUnraisableAmbient(opts.process.capabilities, warn); // the names were checked: the process is good
    if (opts.pidFile) writeFileSync(opts.pidFile, String(child.pid));
    if (master !== undefined && opts.consoleSocket) sendConsole(opts.consoleSocket, master);
    else if (master !== undefined) session = attachTerminal(master, { stdin: true });
    if (opts.detached) {
      child.unref();
      return 0;
    }
    signals.attach(child.pid);
    await child.exited;
    if (session) await Promise.race([session.drained, Bun.sleep(2000)]);
    return exitStatus(child.exitCode, child.signalCode);
  } catch (e) {
    if (child && child.exitCode === null && child.signalCode === null) {
      kill(child.pid, 9);
      await child.exited;
    }
    throw e;
  } finally {
    session?.close();
    signals.dispose();
  }
}
