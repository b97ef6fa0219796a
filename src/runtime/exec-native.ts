// exec's native way (docs/performance.md, "Design of the native exec"): no Bun start-up
// in the container. We open the container's namespaces from its init, verified to be
// that init (not a process that took its pid since), and decide every step; the C child
// (sys/spawn-namespaced.ts's startInWindow) only executes them. It is cloned in the
// container's PID namespace (our thread's pid_for_children, set for that one clone), joins
// the other namespaces itself (it has an fs struct of its own, so the mount namespace too),
// stops until we have put it in the container's cgroup, then runs native-process-steps.ts's
// steps and execve's. What this does not cover is refused with the reason, and exec.ts
// takes Bun's init instead.
import { closeSync, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import {
  CLONE, SysError, execStub, O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_RDONLY, RESOLVE, close, openPtyAt, openat2, setWindowSize, startInWindow,
  watchChild, windowStartInProgress, type SpawnStep, type WindowChild,
} from "../sys";
import { joinCgroup } from "../cgroups/existing";
import type { Process, Spec } from "../spec/types";
import { stubRefusal } from "./exec-stub-fit";
import { USER_ANNOTATION } from "./annotations";
import { ContainerError } from "./errors";
import type { Stdio } from "./launch";
import { processSteps } from "./native-process-steps";
import { seccompCacheDir } from "./paths";
import { startTimeIn, type ProcessRef } from "./procfs";
import { isHostRoot } from "./rootless";
import type { ContainerProcess } from "./spawn-init";
import type { ContainerRecord } from "./state";
import { trace } from "./trace";
import { parseGroup, parsePasswd, resolveUser, type ResolvedUser } from "./user";

/** The namespaces the child joins (setns), in this order; the PID namespace is the window's. */
const JOINED: Array<[number, string]> = [
  [CLONE.NEWIPC, "ipc"],
  [CLONE.NEWUTS, "uts"],
  [CLONE.NEWNET, "net"],
  [CLONE.NEWCGROUP, "cgroup"],
  [CLONE.NEWNS, "mnt"],
];

/** A started exec: the process, and with a terminal our end of it. */
export interface StartedExec {
  child: ContainerProcess;
  master?: number;
}

/** The container's init, held: its /proc directory and the namespaces of it that are not ours. */
export interface HeldInit {
  /** O_PATH fd of /proc/PID: lookups through it fail once that process is gone, whatever takes its pid. */
  dir: number;
  /** Namespace name -> fd, for those that differ from ours. */
  namespaces: Map<string, number>;
  fds: number[];
}

function sameAsOurs(fd: number, name: string): boolean {
  const theirs = fstatSync(fd);
  const ours = statSync(`/proc/self/ns/${name}`);
  return theirs.ino === ours.ino && theirs.dev === ours.dev;
}

/**
 * Opens the container's init's /proc directory and namespaces, or null when the process
 * at its pid is not it (exited, its pid reused: then the container is stopped). Its start
 * time is read through the held directory, so every later open is of that process or fails.
 * Start times count in clock ticks (10 ms): a pid reused within the tick its init started
 * in would pass, so the process must also be in the container's cgroup (`inCgroup`:
 * nothing in the container can move another process into it).
 */
export function holdInit(ref: ProcessRef, inCgroup: (pid: number) => boolean): HeldInit | null {
  let dir: number;
  try {
    dir = openSync(`/proc/${ref.pid}`, O_PATH | O_DIRECTORY | O_CLOEXEC);
  } catch {
    return null;
  }
  const held: HeldInit = { dir, namespaces: new Map(), fds: [dir] };
  try {
    if (startTimeIn(`/proc/self/fd/${dir}`) !== ref.startTime) throw new Error("not the container's init");
    // the held process still runs (its start time read through it): the pid is its own
    if (!inCgroup(ref.pid)) throw new Error("not in the container's cgroup");
    for (const name of ["ipc", "uts", "net", "cgroup", "mnt", "pid", "user", "time"]) {
      let fd: number;
      try {
        fd = openSync(`/proc/self/fd/${dir}/ns/${name}`, O_RDONLY | O_CLOEXEC);
      } catch (e) {
        // a kernel without that kind of namespace; any other failure: the process is gone
        if ((e as NodeJS.ErrnoException).code === "ENOENT" && (name === "time" || name === "cgroup") && startTimeIn(`/proc/self/fd/${dir}`) === ref.startTime) continue;
        throw e;
      }
      held.fds.push(fd);
      if (!sameAsOurs(fd, name)) held.namespaces.set(name, fd);
    }
    return held;
  } catch {
    releaseInit(held);
    return null;
  }
}

export function releaseInit(held: HeldInit): void {
  for (const fd of held.fds) closeSync(fd);
  held.fds.length = 0;
}

/** Why the native exec cannot run this process (Bun's init can), or null: what the spec and the caller tell. */
export function nativeExecRefusal(spec: Spec): string | null {
  const proc = spec.process!;
  if (!isHostRoot()) return "a caller without root over the host";
  const stub = stubRefusal(spec);
  if (stub) return stub;
  if (windowStartInProgress()) return "a second start while one is in progress in this process";
  // the pty comes from the container's own devpts, as the native init's
  if (proc.terminal && !(spec.mounts ?? []).some((m) => m.destination === "/dev/pts" && m.type === "devpts")) return "a terminal without a devpts at /dev/pts";
  if (proc.oomScoreAdj !== undefined) return "oomScoreAdj";
  if (proc.apparmorProfile || proc.selinuxLabel || proc.ioPriority || proc.scheduler || proc.execCPUAffinity) return "process attributes";
  if (spec.linux?.personality) return "linux.personality";
  if (spec.linux?.seccomp?.listenerPath) return "a seccomp agent";
  return null;
}

/** Why the native exec cannot join the namespaces of the held init, or null. */
export function heldInitRefusal(held: HeldInit): string | null {
  // Joining a user namespace needs a process that shares no memory with ours, a time namespace a single-threaded one
  if (held.namespaces.has("user") || held.namespaces.has("time")) return "a user or time namespace";
  if (!held.namespaces.has("mnt")) return "a container without a mount namespace of its own";
  return null;
}

/** The container's root directory (O_PATH), through the held init: the caller closes it. */
function containerRoot(held: HeldInit): number {
  return openSync(`/proc/self/fd/${held.dir}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/**
 * A file of the container's (its /etc/passwd...), read by us from outside: resolved in
 * its root, and only a regular file of at most 1 MiB (a FIFO or /dev/zero planted there
 * would hold us), else "" as if missing.
 */
function containerFile(root: number, path: string): string {
  let at: number;
  try {
    at = openat2(root, path, O_PATH | O_CLOEXEC, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS);
  } catch {
    return "";
  }
  try {
    const st = fstatSync(at);
    if (!st.isFile() || st.size > 1 << 20) return "";
    return readFileSync(`/proc/self/fd/${at}`, "utf8"); // the same inode, opened for reading
  } finally {
    close(at);
  }
}

/**
 * The process as Bun's init would run it: a user given by name (or USER[:GROUP], run
 * -u's and exec -u's annotation) resolved in the container's /etc/passwd and /etc/group,
 * with HOME from its entry unless the environment has one (user.ts, init.ts).
 */
function resolvedProcess(spec: Spec, held: HeldInit): Process {
  const proc = spec.process!;
  const text = spec.annotations?.[USER_ANNOTATION];
  if (text === undefined) return proc;
  const root = containerRoot(held);
  let user: ResolvedUser;
  try {
    user = resolveUser(text, parsePasswd("", containerFile(root, "etc/passwd")), parseGroup("", containerFile(root, "etc/group")));
  } finally {
    close(root);
  }
  const env = proc.env ?? [];
  const withHome = user.home !== undefined && !env.some((e) => e.startsWith("HOME=")) ? [...env, `HOME=${user.home}`] : env;
  return { ...proc, env: withHome, user: { ...proc.user, uid: user.uid, gid: user.gid, additionalGids: user.additionalGids } };
}

/**
 * A new pty of the container's own devpts (its /dev/pts/ptmx, resolved in its root), so
 * the process sees /dev/pts/N of its instance. Opened by us, from outside the container:
 * what is opened must be a ptmx (5:2), or a device the container planted could be opened
 * by a process its device rules do not bind.
 */
function containerPty(held: HeldInit, size: { height: number; width: number } | undefined): { master: number; peer: number } {
  const root = containerRoot(held);
  let ptmx = -1;
  try {
    try {
      ptmx = openat2(root, "dev/pts/ptmx", O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS);
    } catch {
      throw new ContainerError("exec -t: the container has no /dev/pts/ptmx to open a terminal with");
    }
    const st = fstatSync(ptmx);
    if (!st.isCharacterDevice() || st.rdev !== (5 << 8 | 2)) throw new ContainerError("exec -t: the container's /dev/pts/ptmx is not a pty multiplexer");
    const pty = openPtyAt(ptmx);
    if (size && size.height > 0 && size.width > 0) setWindowSize(pty.master, { rows: size.height, cols: size.width });
    return pty;
  } finally {
    if (ptmx >= 0) close(ptmx);
    close(root);
  }
}

/** Our fds for the child's 0, 1, 2 ("ignore": /dev/null, pushed to `opened`). */
function stdioFds(stdio: Stdio, opened: number[]): number[] {
  return stdio.map((x, i) => {
    if (x === "inherit") return i;
    if (x === "ignore") return opened[opened.push(openSync("/dev/null", "r+")) - 1]!;
    return x;
  });
}

export interface NativeExec {
  record: ContainerRecord;
  /** The container's spec with the process to run (exec.ts's execSpec). */
  spec: Spec;
  held: HeldInit;
  detached: boolean;
  stdio: Stdio;
}

/** Starts the process; returns once it exec'd. Releases `held` either way. */
export async function startNativeExec(x: NativeExec): Promise<StartedExec> {
  const { spec, held } = x;
  const args = spec.process!.args ?? [];
  const opened: number[] = [];
  let started: WindowChild | null = null;
  let watched: ContainerProcess | null = null;
  let master = -1;
  try {
    const proc = resolvedProcess(spec, held);
    const joins: SpawnStep[] = JOINED.filter(([, name]) => held.namespaces.has(name)).map(([nstype, name]) => ({ op: "setns", fd: held.namespaces.get(name)!, nstype, what: `the container's ${name} namespace` }));
    const child: SpawnStep[] = [...joins, { op: "setsid", what: "setsid" }];
    // Detached, the process outlives us (the caller's subreaper adopts it), as with Bun's init.
    if (!x.detached) child.push({ op: "deathSignal", what: "PR_SET_PDEATHSIG", signal: 9 });
    child.push({ op: "sync" });
    if (proc.terminal) {
      const pty = containerPty(held, proc.consoleSize);
      master = pty.master;
      opened.push(pty.peer); // the child's copy is its own
      child.push({ op: "controllingTerminal", what: "making the terminal the controlling one", fd: pty.peer });
    }
    const cwd = proc.cwd || "/";
    const parts = cwd.split("/").filter((p) => p !== "" && p !== ".");
    // As root, as Bun's init does (docker creates WORKDIR the same way).
    parts.forEach((_, i) => child.push({ op: "mkdir", what: `mkdir ${cwd}`, path: `/${parts.slice(0, i + 1).join("/")}` }));
    child.push(...processSteps(proc, spec.linux, { seccompCacheDir: seccompCacheDir(), deathSignal: !x.detached, stub: execStub()! }));
    const pidNs = held.namespaces.get("pid");
    const window: SpawnStep[] = pidNs !== undefined ? [{ op: "setns", fd: pidNs, nstype: CLONE.NEWPID, what: "the container's PID namespace (for the child)" }] : [];
    const saved = pidNs !== undefined ? [openSync("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC)] : [];
    opened.push(...saved);
    const ourCwd = openSync(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    opened.push(ourCwd);
    // With a terminal the child's 0-2 are its end of the pty by the time it execs.
    const fds = proc.terminal ? [0, 1, 2] : stdioFds(x.stdio, opened);
    trace("exec: native plan");
    // CLONE_VM: no copy of Bun's page tables; no CLONE_FS: setns into the mount namespace needs an fs of its own.
    started = startInWindow({ cloneFlags: CLONE.VM, steps: child, path: args[0] ?? "", argv: args, env: proc.env ?? [], fds }, { saved, cwd: ourCwd, steps: window });
    watched = watchChild(started.pid);
    trace("exec: native child cloned");
    if (x.record.cgroup) joinCgroup(x.record.cgroup, started.pid);
    started.go();
    trace("exec: native child exec'd");
    const result: StartedExec = { child: watched, ...(master >= 0 ? { master } : {}) };
    master = -1; // the caller's now
    return result;
  } catch (e) {
    started?.abort(); // kills it if it still waits at its sync step; the watcher reaps it
    if (watched) await watched.exited;
    if (master >= 0) close(master);
    // The stub's report of execve's failure: the exec step's, as the C's own search reports it
    const failed = e instanceof SysError && e.call.startsWith("execve(") ? new SysError("exec", args[0] ?? "", e.errno) : e;
    if (failed instanceof ContainerError) throw failed;
    // create's words for a failed step, from the module that launches containers: loaded
    // on this path only, so that an exec that works loads none of the launch code
    const { toContainerError } = await import("./launch-native");
    throw toContainerError(failed, args);
  } finally {
    for (const fd of opened) close(fd);
    releaseInit(held);
  }
}
