// What happens inside the container before the user's program runs: the story of
// PID 1's first milliseconds, top to bottom. This is the hidden `mycr init`, spawned
// by the runtime inside the new namespaces with the sync socket as fd 3. The same
// story, shorter, serves `exec`: a new process joining a running container.
import { trace } from "./trace";
import { closeSync, existsSync, mkdirSync, readFileSync, writeSync } from "node:fs";
import {
  bindEveryLibcSymbol, CLONE, MOUNT_ATTR, MS, O_CLOEXEC, O_WRONLY, SysError, bind, detachedMount, openat, chdir, close, closeFdsOnExec, dup2, exitNow, joinSessionKeyring, linkUp,
  prepareExecve, mount, prctl, resetSignals, setdomainname, setgid, setgroups, sethostname, setDumpable, setns, setProcessName,
  setParentDeathSignal, setPropagation, setsid, setuid, unshare, umask,
} from "../sys";
import type { Spec } from "../spec/types";
import { runHooks, type HookState } from "./hooks";
import { ExecError, lookPath } from "./lookpath";
import { MessageReader, sendMessage, type InitConfig, type ParentMessage } from "./messages";
import { mountAll } from "./rootfs/mounts";
import { populateDev } from "./rootfs/devices";
import { makeReadonly, maskPath } from "./rootfs/masked";
import { chrootInto, switchRoot } from "./rootfs/pivot";
import { propagationFlags } from "./rootfs/mount-options";
import { applySecurity, prepareSecurity, releaseSecurity, type PreparedSecurity } from "./security";
import { applySysctls } from "./sysctl";
import { prepareSeccomp } from "./seccomp";
import { CONSOLE_FD, PRESERVED_FDS_BASE, SYNC_FD } from "./init-fd";
import { setupConsole } from "./console";
import { applyRlimits } from "./rlimits";
import { setOomScoreAdj } from "./oom-score";
import { effectiveUser, type ResolvedUser } from "./user";
import { reap } from "./reaper";
import { INIT_ANNOTATION } from "./annotations";
import { applyExecLabels, applyProcessAttributes, prepareProcessAttributes, type ProcessAttributes } from "./process-attrs";

const SIGKILL = 9;
const PR_SET_KEEPCAPS = 8;

/** Our parent-death signal: SIGKILL while our life is bound to the runtime, 0 once we outlive it. */
let deathSignal = SIGKILL;

function setDeathSignal(signal: number): void {
  deathSignal = signal;
  setParentDeathSignal(signal);
}

function hasNamespace(spec: Spec, type: string, requirePathless = true): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === type && (!requirePathless || !n.path));
}

/** `sharesMounts`: no mount namespace of the container's own; we mount in the runtime's. */
function prepareRoot(config: InitConfig, sharesMounts: boolean): void {
  const { spec, rootfs } = config;
  if (!sharesMounts) {
    // Nothing we mount may propagate back to the host, and pivot_root refuses shared
    // mounts: slave (or private, if asked) now; a shared rootfsPropagation is applied
    // to the new root after pivot_root (finishRoot).
    const rootProp = spec.linux?.rootfsPropagation;
    const propagation = rootProp ? propagationFlags(rootProp) : null;
    const privateAsked = propagation !== null && (propagation & MS.PRIVATE) !== 0;
    setPropagation("/", privateAsked ? MS.PRIVATE | MS.REC : MS.SLAVE | MS.REC);
    // pivot_root needs the new root to be a mount point of its own.
    bind(rootfs, rootfs, true);
  }

  mountAll(spec.mounts ?? [], {
    rootfs,
    bundle: config.bundle,
    newNetworkNamespace: hasNamespace(spec, "network"),
    ...(spec.linux?.mountLabel ? { mountLabel: spec.linux.mountLabel } : {}),
    ...(config.idmappedMounts ? { idmapped: config.idmappedMounts } : {}),
  });
  const devIsOurs = (spec.mounts ?? []).some((m) => m.destination === "/dev" && m.type !== "bind");
  if (devIsOurs) populateDev(rootfs, spec.linux?.devices ?? []);
}
function finishRoot(spec: Spec): void {
  if (spec.root?.readonly) mount(null, "/", null, MS.BIND | MS.REMOUNT | MS.RDONLY, null);
  for (const p of spec.linux?.maskedPaths ?? []) maskPath(p);
  for (const p of spec.linux?.readonlyPaths ?? []) makeReadonly(p);
  if (spec.linux?.rootfsPropagation) {
    const flags = propagationFlags(spec.linux.rootfsPropagation);
    if (flags !== null) setPropagation("/", flags);
  }
}

/**
 * CVE-2024-21626 class: a cwd such as /proc/self/fd/N reaches whatever directory a
 * descriptor still open in init points at, possibly outside the root. getcwd tells:
 * the kernel marks a directory outside our root "(unreachable)", glibc then fails.
 */
function checkCwdInsideRoot(cwd: string): void {
  let where: string;
  try {
    where = process.cwd();
  } catch {
    where = "";
  }
  if (!where.startsWith("/")) throw new Error(`process.cwd ${cwd} leads outside the container's root filesystem`);
}

function hookState(config: InitConfig, status: HookState["status"]): HookState {
  return { id: config.id, pid: config.hostPid, bundle: config.bundle, status };
}

/** What setup leaves for the last step: the process's environment, user and security. */
interface Prepared {
  env: string[];
  user: ResolvedUser;
  cwd: string;
  security: PreparedSecurity;
  attributes: ProcessAttributes;
}

function setup(config: InitConfig): Prepared {
  const { spec } = config;
  const proc = spec.process;
  if (!proc) throw new Error("config has no process to run");
  const ownMounts = !config.exec && hasNamespace(spec, "mount", false);
  // Without a mount namespace the spec's mounts go into the runtime's, below the root
  // filesystem, and we chroot (pivot_root would move the host's root): delete unmounts them.
  const sharesMounts = !config.exec && !ownMounts;

  // Compiled (or read from the cache) now, from the host's root while we still see it.
  const seccomp = spec.linux?.seccomp ? prepareSeccomp(spec.linux.seccomp, config.seccompCacheDir) : null;
  // `exec`, or a mount namespace given by path: the runtime spawned us inside the other
  // namespaces; the mount namespace we join ourselves, so that our own binary was found on the host.
  const joinMounts = config.exec?.mountNamespaceFd ?? config.mountNamespaceFd;
  if (joinMounts !== undefined) {
    unshare(CLONE.FS);
    setns(joinMounts, CLONE.NEWNS, "container mount namespace");
  }
  if (!config.exec) {
    if (hasNamespace(spec, "cgroup")) unshare(CLONE.NEWCGROUP); // rooted at the cgroup the runtime put us in
    if (hasNamespace(spec, "network")) linkUp("lo");
  }
  // exec into a container that shares the runtime's mounts: its root is a chroot.
  if (config.exec && !hasNamespace(spec, "mount", false)) chrootInto(config.rootfs);
  if (ownMounts || sharesMounts) {
    prepareRoot(config, sharesMounts);
    trace("init: mounts done");
    runHooks("createContainer", spec, hookState(config, "creating")); // paths still resolve on the host
    if (sharesMounts) chrootInto(config.rootfs);
    else switchRoot(config.rootfs, config.noPivot);
    trace("init: root switched");
  }
  // before finishRoot makes /proc/sys read-only
  if (!config.exec && spec.linux?.sysctl) applySysctls(spec.linux.sysctl);
  const cwd = proc.cwd || "/";
  // As root and before the root may turn read-only (docker creates WORKDIR the same way).
  if (!existsSync(cwd)) mkdirSync(cwd, { recursive: true, mode: 0o755 });
  // Through the container's own /dev/ptmx: needs the new root and our session.
  if (proc.terminal) setupConsole({ socket: CONSOLE_FD, size: proc.consoleSize, bindDevConsole: ownMounts || sharesMounts });
  if (ownMounts) finishRoot(spec);
  if (!config.exec) {
    if (spec.hostname !== undefined && hasNamespace(spec, "uts", false)) sethostname(spec.hostname);
    if (spec.domainname !== undefined && hasNamespace(spec, "uts", false)) setdomainname(spec.domainname);
  }

  // As runc: a session keyring of the container's own, so keys of the host's session stay out.
  if (!config.exec && config.newKeyring) joinSessionKeyring(`_ses.${config.id}`);
  if (proc.oomScoreAdj !== undefined) setOomScoreAdj(proc.oomScoreAdj);
  applyRlimits(proc.rlimits);
  const user = effectiveUser(spec); // names are looked up in the container's /etc
  umask(proc.user.umask ?? 0o022);
  chdir(cwd); // as root for now, to find the program; again as the user before execve
  checkCwdInsideRoot(cwd);
  const env = proc.env ?? [];
  const withHome = user.home !== undefined && !env.some((e) => e.startsWith("HOME=")) ? [...env, `HOME=${user.home}`] : env;
  const attributes = prepareProcessAttributes(spec);
  applyProcessAttributes(attributes);
  // Checked and compiled now, so a bad profile fails the start; applied right before execve.
  return { env: withHome, user, cwd, security: prepareSecurity(proc, seccomp), attributes };
}

/**
 * A user namespace whose gid map an unprivileged user wrote (rootless without subordinate
 * ids) denies setgroups to everyone in it: there is no group list to drop then, and one
 * to take cannot be had.
 */
function setGroupsUnlessDenied(gids: number[]): void {
  let denied = false;
  try {
    denied = readFileSync("/proc/self/setgroups", "utf8").trim() === "deny";
  } catch {
    // no user namespaces in this kernel: setgroups decides
  }
  if (!denied) return setgroups(gids);
  if (gids.length > 0) throw new Error(`additional groups ${gids.join(",")}: setgroups is denied in this user namespace (rootless without subordinate ids)`);
}

/**
 * Becomes the container's user. PR_SET_KEEPCAPS keeps the permitted capabilities across
 * setuid, so applySecurity can still give the process the capabilities its spec lists.
 */
function switchUser(user: ResolvedUser, cwd: string): void {
  prctl(PR_SET_KEEPCAPS, 1, "PR_SET_KEEPCAPS, 1");
  setGroupsUnlessDenied(user.additionalGids);
  setgid(user.gid);
  setuid(user.uid);
  prctl(PR_SET_KEEPCAPS, 0, "PR_SET_KEEPCAPS, 0");
  // A change of credentials clears the parent-death signal: set it again (if we had one).
  if (deathSignal !== 0) setParentDeathSignal(deathSignal);
  chdir(cwd); // as the user: a directory it may not enter is an error, as with runc
}

/** The program to run, resolved in the container's root and cwd before we report ready. */
function findProgram(spec: Spec): { path: string; args: string[] } {
  const args = spec.process!.args ?? [];
  const path = lookPath(args[0] ?? "", spec.process!.env ?? []);
  return { path, args };
}

/** Moves the preserved fds to 3, 4, ... (dup2 leaves the copies open across execve). */
function placePreservedFds(count: number): void {
  for (let i = 0; i < count; i++) dup2(PRESERVED_FDS_BASE + i, 3 + i);
}

function execProcess(path: string, args: string[], p: Prepared, preserveFds: number): never {
  closeFdsOnExec(3); // nothing of mycr's may leak into the container
  placePreservedFds(preserveFds);
  resetSignals();
  const exec = prepareExecve(path, args, p.env);
  trace("init: execve");
  applyExecLabels(p.attributes);
  applySecurity(p.security, () => switchUser(p.user, p.cwd)); // from here on the container's limits hold for this thread
  try {
    return exec();
  } catch (e) {
    const errno = e instanceof SysError ? e.errno : 0;
    if (errno === 2) throw new ExecError(`"${args[0]}": no such file or directory (or its interpreter is missing)`, 127);
    throw new ExecError(`"${args[0]}": cannot execute: ${(e as Error).message}`, 126);
  }
}

/**
 * Blocks until `mycr start` opens the exec FIFO for reading (runc's protocol): opening
 * it for writing waits for a reader; the byte we write tells start we are going. It is
 * reopened through a procfs of our PID namespace mounted nowhere (the native init's
 * way), never a path of the container's: its /proc may be the image's own directory.
 * In a user namespace the kernel may refuse that procfs: then through the host's /proc,
 * which the runtime hands us only there (`hostProc`).
 */
function waitForStart(fifo: number, hostProc: number): void {
  let proc: number;
  try {
    proc = detachedMount("proc", [], MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC);
  } catch (e) {
    if (hostProc < 0) throw e;
    proc = hostProc;
  }
  const w = openat(proc, `self/fd/${fifo}`, O_WRONLY | O_CLOEXEC);
  if (proc !== hostProc) close(proc);
  writeSync(w, "0");
  closeSync(w);
}

export function initMain(): void {
  trace("init: start");
  // exec named us after the sealed binary's fd number (/proc/N/fd/7 -> "7"): what ps shows.
  setProcessName("mycr");
  // libc's symbols are bound on first call (sys/libc.ts); bind them all before the
  // container's seccomp filter, which may forbid the executable memory a binding maps
  bindEveryLibcSymbol();
  // Our binary is a sealed, read-only handle (self.ts), so /proc/PID/exe cannot be
  // written through (CVE-2019-5736); besides, a non-dumpable process's /proc entries
  // (fds, memory, environment) need CAP_SYS_PTRACE.
  setDumpable(false);
  // If the runtime dies during setup, so do we; after execve this still holds for
  // foreground containers, whose life is bound to the mycr that runs them.
  setDeathSignal(SIGKILL);
  // A session of our own, first: also a scheduling group of our own (autogroup), so the
  // container's setup gets its own share of the CPU instead of sharing the runtime's
  // (the supervisor starts many containers).
  setsid();
  const reader = new MessageReader<ParentMessage>(SYNC_FD);
  const first = reader.next();
  trace("init: config received");
  if (!first || first.type !== "config") process.exit(125);
  const config = first.config;
  let prepared: Prepared | null = null;
  try {
    // The exec FIFO lives in the runtime's state dir, hidden by pivot_root and maybe out of
    // a user namespace's reach: the runtime hands it to us (O_PATH).
    const fifo = config.execFifoFd ?? -1;
    const hostProc = config.hostProcFd ?? -1;
    prepared = setup(config);
    const { path, args } = findProgram(config.spec);
    trace("init: setup done");
    // `create` returns as soon as we are ready and the container outlives it: stop
    // tying our life to it before saying so, or its exit could still kill us.
    if (!config.startImmediately || config.exec?.detached) setDeathSignal(0);
    sendMessage(SYNC_FD, { type: "ready" });
    if (!config.startImmediately) waitForStart(fifo, hostProc); // until `start`
    else if (!config.exec && reader.next()?.type !== "start") process.exit(125); // the runtime gave up
    // The container's own start, not each exec's: runc runs no hooks for exec either.
    if (!config.exec) runHooks("startContainer", config.spec, hookState(config, "created"));
    if (config.spec.annotations?.[INIT_ANNOTATION] === "true") {
      // --init: we stay PID 1, confined like the program, and reap for it.
      const p = prepared;
      applyExecLabels(p.attributes);
      applySecurity(p.security, () => switchUser(p.user, p.cwd));
      const foreground = config.spec.process!.terminal === true;
      reap({ path, args, env: p.env, foreground }, exitNow);
      close(SYNC_FD); // as a successful execve would: the runtime now knows the program runs
      return;
    }
    execProcess(path, args, prepared, config.preserveFds ?? 0);
  } catch (e) {
    releaseSecurity(prepared?.security ?? null);
    const code = e instanceof ExecError ? e.exitCode : 125;
    const err = e as Error;
    try {
      sendMessage(SYNC_FD, { type: "error", message: err.message, code, stack: err.stack });
    } catch {
      // the runtime is gone; nobody to tell
    }
    process.exit(code);
  }
}
