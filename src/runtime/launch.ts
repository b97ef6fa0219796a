// The runtime's side of bringing a container up: check the config, claim the id, and
// start init in the new namespaces: the native init (launch-native.ts) where it covers
// the config, Bun's (launch-bun.ts) elsewhere.
import { trace } from "./trace";
import { statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { windowFreed, windowStartInProgress, type Keeper, type KeeperSpec } from "../sys";
import { missingController, type Cgroup, type CgroupManager } from "../cgroups";
import { chooseCgroupManager, refuseUnjoinable } from "./unprivileged";
import type { Spec } from "../spec/types";
import { ContainerError } from "./errors";
import type { MessageReader, InitMessage } from "./messages";
import { planNamespaces } from "./namespaces";
import { configRefusal } from "./refuse";
import type { ProcessRef } from "./procfs";
import type { ContainerProcess } from "./spawn-init";
import type { StateStore, ContainerRecord } from "./state";
import { sysctlError } from "./sysctl";
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
  /**
   * Init's parent is a keeper that becomes this program (the first `run -d`'s
   * supervisor, docs/detached.md) instead of this process; the keeper owns the container.
   * The native init only: launch() throws NotKeepable before anything exists otherwise.
   */
  keeper?: KeeperSpec;
}

/** A start with a keeper that the native init cannot make (launch's caller goes another way). */
export class NotKeepable extends Error {}

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
  /** With opts.keeper: init's parent, waiting to be told to keep the container. */
  keeper?: Keeper;
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
  if (opts.keeper && !native) throw new NotKeepable("the native init does not start this container");
  store.claim(id, spec.linux?.cgroupsPath, cgroupManager);
  if (native) return launchNative({ ...opts, cgroupManager }, plan, bundle);

  // Bun's init (a second Bun process, and the handover of fds and config to it) is loaded
  // only for what the native one does not cover: ~20 KB that `run` and `create` skip.
  const { launchBun } = await import("./launch-bun");
  return launchBun({ ...opts, cgroupManager }, plan, bundle);
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
