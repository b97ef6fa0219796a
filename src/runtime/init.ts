// What happens inside the container before the user's program runs: the story of
// PID 1's first milliseconds, top to bottom. This is the hidden `mycr init`, spawned
// by the runtime inside the new namespaces with the sync socket as fd 3.
import { trace } from "./trace";
import { existsSync, mkdirSync } from "node:fs";
import { CLONE, MS, SysError, bind, chdir, close, closeFdsOnExec, execve, exitNow, linkUp, mount, resetSignals, setdomainname, setgid, setgroups, sethostname, setParentDeathSignal, setPropagation, setsid, setuid, unshare, umask } from "../sys";
import type { Spec } from "../spec/types";
import { ExecError, lookPath } from "./lookpath";
import { MessageReader, sendMessage, type InitConfig, type ParentMessage } from "./messages";
import { mountAll } from "./rootfs/mounts";
import { populateDev } from "./rootfs/devices";
import { makeReadonly, maskPath } from "./rootfs/masked";
import { switchRoot } from "./rootfs/pivot";
import { propagationFlags } from "./rootfs/mount-options";

import { CONSOLE_FD, SYNC_FD } from "./init-fd";
import { setupConsole } from "./console";
import { applyRlimits } from "./rlimits";
import { effectiveUser, type ResolvedUser } from "./user";
import { reap } from "./reaper";
import { INIT_ANNOTATION } from "./annotations";
const SIGKILL = 9;

function hasNamespace(spec: Spec, type: string, requirePathless = true): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === type && (!requirePathless || !n.path));
}

function prepareRoot(config: InitConfig): void {
  const { spec, rootfs } = config;
  // Nothing we mount may propagate back to the host.
  const rootProp = spec.linux?.rootfsPropagation;
  const propagation = rootProp ? propagationFlags(rootProp) : null;
  setPropagation("/", propagation ?? MS.SLAVE | MS.REC);
  // pivot_root needs the new root to be a mount point of its own.
  bind(rootfs, rootfs, true);

  mountAll(spec.mounts ?? [], {
    rootfs,
    bundle: config.bundle,
    newNetworkNamespace: hasNamespace(spec, "network"),
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

/** What setup leaves for the exec: the environment (HOME filled in for -u) and the process's working directory. */
interface Prepared {
  env: string[];
}

function setup(config: InitConfig): Prepared {
  const { spec } = config;
  const proc = spec.process;
  if (!proc) throw new Error("config has no process to run");
  const ownMounts = hasNamespace(spec, "mount", false);

  setsid();
  if (hasNamespace(spec, "cgroup")) unshare(CLONE.NEWCGROUP); // rooted at the cgroup the runtime put us in
  if (hasNamespace(spec, "network")) linkUp("lo");

  if (ownMounts) {
    prepareRoot(config);
    trace("init: mounts done");
    switchRoot(config.rootfs, config.noPivot);
    trace("init: root switched");
  }
  const cwd = proc.cwd || "/";
  // As root and before the root may turn read-only (docker creates WORKDIR the same way).
  if (!existsSync(cwd)) mkdirSync(cwd, { recursive: true, mode: 0o755 });
  // Through the container's own /dev/ptmx: needs the new root and our session.
  if (proc.terminal) setupConsole({ socket: CONSOLE_FD, size: proc.consoleSize, bindDevConsole: ownMounts });
  if (ownMounts) finishRoot(spec);
  if (spec.hostname !== undefined && hasNamespace(spec, "uts", false)) sethostname(spec.hostname);
  if (spec.domainname !== undefined && hasNamespace(spec, "uts", false)) setdomainname(spec.domainname);

  applyRlimits(proc.rlimits);
  const user = effectiveUser(spec); // names are looked up in the container's /etc
  umask(proc.user.umask ?? 0o022);
  switchUser(user);
  chdir(cwd); // as the user: a directory it may not enter is an error, as with runc
  const env = proc.env ?? [];
  const withHome = user.home !== undefined && !env.some((e) => e.startsWith("HOME=")) ? [...env, `HOME=${user.home}`] : env;
  return { env: withHome };
}

function switchUser(user: ResolvedUser): void {
  setgroups(user.additionalGids);
  setgid(user.gid);
  setuid(user.uid);
  // A change of credentials clears the parent-death signal: set it again.
  setParentDeathSignal(SIGKILL);
}

function findProgram(spec: Spec): { path: string; args: string[] } {
  const args = spec.process!.args ?? [];
  return { path: lookPath(args[0] ?? "", spec.process!.env ?? []), args };
}

function execProcess(path: string, args: string[], env: string[]): never {
  closeFdsOnExec(3); // nothing of mycr's may leak into the container
  resetSignals();
  trace("init: execve");
  try {
    return execve(path, args, env);
  } catch (e) {
    const errno = e instanceof SysError ? e.errno : 0;
    if (errno === 2) throw new ExecError(`"${args[0]}": no such file or directory (or its interpreter is missing)`, 127);
    throw new ExecError(`"${args[0]}": cannot execute: ${(e as Error).message}`, 126);
  }
}

export function initMain(): void {
  trace("init: start");
  // If the runtime dies during setup, so do we; after execve this still holds for
  // foreground containers, whose life is bound to the mycr that runs them.
  setParentDeathSignal(SIGKILL);
  const reader = new MessageReader<ParentMessage>(SYNC_FD);
  const first = reader.next();
  trace("init: config received");
  if (!first || first.type !== "config") process.exit(125);
  const config = first.config;
  try {
    const { env } = setup(config);
    trace("init: setup done");
    sendMessage(SYNC_FD, { type: "ready" });
    if (!config.startImmediately) {
      const next = reader.next();
      if (!next || next.type !== "start") process.exit(125);
    }
    const { path, args } = findProgram(config.spec);
    if (config.spec.annotations?.[INIT_ANNOTATION] === "true") {
      const foreground = config.spec.process!.terminal === true;
      reap({ path, args, env, foreground }, exitNow);
      close(SYNC_FD); // as a successful execve would: the runtime now knows the program runs
      return;
    }
    execProcess(path, args, env);
  } catch (e) {
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
