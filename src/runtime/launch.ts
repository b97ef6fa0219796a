// The runtime's side of bringing a container up: claim the id, spawn init inside
// the new namespaces, hand it the config, and wait until it is ready (or failed).
import { trace } from "./trace";
import { statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { close, kill, receiveFd, socketPair, windowFreed, windowStartInProgress } from "../sys";
import { makeExecFifo } from "./exec-fifo";
import { createCgroup, missingController, type Cgroup, type CgroupManager } from "../cgroups";
import { chooseCgroupManager, refuseUnjoinable } from "./unprivileged";
import type { Spec } from "../spec/types";
import { withDefaultDevices } from "../security/devices";
import { ContainerError } from "./errors";
import { MessageReader, initFailure, sendMessage, type InitConfig, type InitMessage } from "./messages";
import { runHooks } from "./hooks";
import { releaseSharedMounts } from "./shared-mounts";
import { seccompCacheDir } from "./paths";
import { planNamespaces } from "./namespaces";
import { configRefusal } from "./refuse";
import { prepareHandover, type Handover } from "./handover";
import { processRef, type ProcessRef } from "./procfs";
import { containerSelfCommand } from "./self";
import { spawnInit, type ChildStdio, type ContainerProcess } from "./spawn-init";
import { StateStore, type ContainerRecord } from "./state";
import { sysctlError } from "./sysctl";
import { warnUnraisableAmbient } from "./security";
import { warn } from "./warn";
import { launchNative } from "./launch-native";
import { nativeRefusal } from "./native-plan";

export type Stdio = [number | "inherit" | "ignore", number | "inherit" | "ignore", number | "inherit" | "ignore"];

export interface LaunchOptions {
  id: string;
  bundle: string;
  spec: Spec;
  store: StateStore;
  /** run: exec the process right away. create: wait for `start`. */
  startImmediately: boolean;
  /** The mycr process that cleans up after this container (foreground runs). */
  owner?: ProcessRef;
  /**
   * Runs right after init is spawned, while it boots: the caller's remaining
   * preparation (container files) overlaps init's start-up instead of preceding it.
   */
  prepare?: (initPid: number) => void | Promise<void>;
  /**
   * The root filesystem's directories: made while Bun's init boots, or before the
   * native init's window (whose mounts need them). Before `prepare` either way.
   */
  prepareRoot?: () => void;
  noPivot?: boolean;
  stdio?: Stdio;
  /** runc's --preserve-fds: our fds 3..3+N-1 become the container's 3..3+N-1. */
  preserveFds?: number;
  /** false with --no-new-keyring: the container keeps the caller's session keyring. */
  newKeyring?: boolean;
  /** --systemd-cgroup: a transient systemd scope instead of a cgroup of mycr's own. */
  cgroupManager?: CgroupManager;
}

export interface Launched {
  record: ContainerRecord;
  cgroup: Cgroup;
  process: ContainerProcess;
  /** Our end of the sync socket: for `start`, and to learn whether execve worked. */
  sync: number;
  /** With process.terminal: the master of the container's terminal (ours to close). */
  console?: number;
  /** Bun's init's messages (absent with the native init, which has reported in launch). */
  reader?: MessageReader<InitMessage>;
}

export function rootfsOf(spec: Spec, bundle: string): string {
  const path = spec.root?.path;
  if (!path) throw new ContainerError("config: root.path is required");
  const rootfs = isAbsolute(path) ? path : resolve(bundle, path);
  let isDir = false;
  try {
    isDir = statSync(rootfs).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new ContainerError(`root filesystem ${rootfs} is not a directory`);
  return rootfs;
}

export async function launch(opts: LaunchOptions): Promise<Launched> {
  trace("launch: start");
  const { id, spec, store } = opts;
  const bundle = resolve(opts.bundle);
  const cgroupManager = await chooseCgroupManager(id, spec, opts.cgroupManager ?? "cgroupfs");
  const refused = configRefusal(spec, cgroupManager);
  if (refused) throw new ContainerError(`config.json: ${refused}`);
  const plan = planNamespaces(spec);
  refuseUnjoinable(plan);
  const missing = cgroupManager === "none" ? null : missingController(spec.linux?.resources);
  if (missing) {
    throw new ContainerError(`linux.resources.${missing.field} needs the ${missing.controller} controller, not enabled on this host`);
  }
  const sysctlProblem = sysctlError(spec);
  if (sysctlProblem) throw new ContainerError(sysctlProblem);
  // The supervisor's concurrent starts take turns at the native init's window (one C child
  // per process until it exec'd; a short wait) rather than fall back to Bun's slower init.
  // No await from here to startInWindow: the turn is ours until then.
  while (windowStartInProgress() && process.env.MYCR_INIT !== "bun" && (await windowFreed()));
  const native = chooseNativeInit(opts, plan);
  store.claim(id, spec.linux?.cgroupsPath, cgroupManager);
  if (native) return launchNative({ ...opts, cgroupManager }, plan, bundle);

  let child: ContainerProcess | null = null;
  let rootfs: string | null = null;
  let cgroup: Cgroup | null = null;
  let sync = -1;
  // With a terminal, init opens the pty inside the container and sends us the master
  // over a socket of its own (fd 4), as runc's init does over its console socket.
  const terminal = spec.process?.terminal === true;
  let consoleSocket = -1;
  let handover: Handover | null = null;
  try {
    handover = prepareHandover(spec, bundle, plan, opts.preserveFds ?? 0, opts.startImmediately ? null : makeExecFifo(store.dir(id)));
    const [ours, theirs] = socketPair();
    sync = ours;
    const [consoleOurs, consoleTheirs] = terminal ? socketPair() : [-1, -1];
    consoleSocket = consoleOurs;
    const given = opts.stdio ?? ["inherit", "inherit", "inherit"];
    // The terminal replaces init's stdio before execve; until then stdin is /dev/null.
    const preserved = Array.from({ length: opts.preserveFds ?? 0 }, (_, i) => 3 + i);
    const extra = [...preserved, ...handover.fds];
    const stdio: ChildStdio = terminal
      ? ["ignore", given[1], given[2], theirs, consoleTheirs, ...extra]
      : extra.length > 0
        ? [...given, theirs, "ignore", ...extra] // preserved fds start at PRESERVED_FDS_BASE either way
        : [...given, theirs];
    const { command, argv0 } = containerSelfCommand("init"); // sealed in our own mount namespace, before we leave it
    const linux = spec.linux;
    try {
      child = spawnInit({
        plan,
        command,
        argv0,
        stdio,
        env: initEnvironment(),
        uidMappings: linux?.uidMappings,
        gidMappings: linux?.gidMappings,
        timeOffsets: linux?.timeOffsets,
      });
    } finally {
      handover.close();
      close(theirs);
      if (consoleTheirs >= 0) close(consoleTheirs);
    }
    const ref = processRef(child.pid);
    trace("launch: init spawned");
    if (!ref) throw initFailure(null);
    opts.prepareRoot?.();
    await opts.prepare?.(child.pid);
    // init waits for its config: it is in its cgroup before it runs anything of the container's.
    // pids.max waits until init is ready: Bun's init starts threads during setup, and a
    // limit below their number would abort it (`--pids-limit 2`); the limit binds the
    // container's programs, which start only after it is written.
    const resources = withDefaultDevices(spec.linux?.resources);
    const { pids: pidsLimit, ...setupResources } = resources ?? {};
    cgroup = await createCgroup(id, resources ? setupResources : undefined, spec.linux?.cgroupsPath, child.pid, cgroupManager, spec.annotations);
    rootfs = rootfsOf(spec, bundle);
    const record: ContainerRecord = {
      id,
      bundle,
      rootfs,
      created: new Date().toISOString(),
      spec,
      started: false,
      init: ref,
      cgroup: cgroup.record,
      ...(opts.owner ? { owner: opts.owner } : { creator: processRef(process.pid)! }),
    };
    store.save(record);

    const config: InitConfig = {
      id,
      spec,
      rootfs,
      bundle,
      noPivot: opts.noPivot ?? false,
      startImmediately: opts.startImmediately,
      hostPid: child.pid,
      seccompCacheDir: seccompCacheDir(),
      preserveFds: opts.preserveFds ?? 0,
      newKeyring: opts.newKeyring ?? true,
      ...handover.config,
    };
    const hookState = { id, pid: child.pid, bundle, status: "creating" as const };
    runHooks("prestart", spec, hookState); // deprecated by the spec, still used (e.g. for networking)
    runHooks("createRuntime", spec, hookState);
    sendMessage(sync, { type: "config", config });
    const reader = new MessageReader<InitMessage>(sync);
    const reply = await reader.nextAsync();
    trace("launch: init ready");
    if (reply?.type !== "ready") throw initFailure(reply);
    if (pidsLimit) await cgroup.update({ pids: pidsLimit });
    if (opts.startImmediately) sendMessage(sync, { type: "start" });
    warnUnraisableAmbient(spec.process?.capabilities, warn); // init checked the names: the config is good
    if (record.creator) {
      // Created: from now on the container is its OCI client's to delete, not gc's.
      delete record.creator;
      store.save(record);
    }
    const master = terminal ? receiveFd(consoleSocket) : undefined;
    close(consoleSocket);
    consoleSocket = -1;
    return { record, cgroup, process: child, sync, reader, ...(master !== undefined ? { console: master } : {}) };
  } catch (e) {
    if (child) {
      kill(child.pid, 9);
      await child.exited; // reaped before we return: no zombie outlives the error
      if (rootfs) releaseSharedMounts(spec, rootfs);
    }
    await cgroup?.destroy();
    handover?.close();
    if (sync >= 0) close(sync);
    if (consoleSocket >= 0) close(consoleSocket);
    store.remove(id);
    throw e;
  }
}

/**
 * Whether the native init starts this container or Bun's. MYCR_INIT=auto (the default):
 * the native init where it covers the config, else Bun's; MYCR_INIT=native: the native
 * init, refusing a config it does not cover; MYCR_INIT=bun: Bun's.
 */
function chooseNativeInit(opts: LaunchOptions, plan: ReturnType<typeof planNamespaces>): boolean {
  const mode = process.env.MYCR_INIT ?? "auto";
  if (mode === "bun") return false;
  if (mode !== "native" && mode !== "auto") throw new ContainerError(`MYCR_INIT=${mode}: use bun, native or auto`);
  const refused = nativeRefusal(opts.spec, plan, { startImmediately: opts.startImmediately, preserveFds: opts.preserveFds ?? 0, noPivot: opts.noPivot ?? false });
  if (refused && mode === "native") throw new ContainerError(`MYCR_INIT=native: the native init does not cover ${refused}; unset MYCR_INIT to use Bun's init`);
  trace(refused ? `launch: Bun's init (the native one does not cover ${refused})` : "launch: native init");
  return !refused;
}

/** init needs nothing from our environment; only tracing is passed on. */
function initEnvironment(): Record<string, string> {
  return process.env.MYCR_TRACE ? { MYCR_TRACE: process.env.MYCR_TRACE } : {};
}
