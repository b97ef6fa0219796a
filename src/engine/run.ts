// `mycr run` in the foreground: an overlay root over the chosen lower layer, a spec
// from the flags, the runtime to run it, and everything removed afterwards.
import { existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import { ContainerError } from "../runtime/errors";
import { processRef, type ProcessRef } from "../runtime/procfs";
import { runForeground, type ForegroundResult } from "../runtime/run";
import type { Resources } from "../spec/types";
import type { CgroupManager } from "../cgroups";
import type { KeeperSpec } from "../sys";
import type { Launched } from "../runtime/launch";
import { forwardSignals, ignoreSignals, type SignalForwarder } from "../runtime/signals";
import type { TerminalSession } from "../runtime/terminal";
import { StateStore } from "../runtime/state";
import { trace } from "../runtime/trace";
import { newContainerId } from "./ids";
import { containerDir, dataRoot } from "./paths";
import { checkRootfsDir, exposedStores, mycrStores, storeHolding } from "./host-view";
import { updateRecord, writeRecord, type EngineRecord } from "./record";
import { announceOnNetwork, applyNetwork, attachNetwork, createNetworkFiles, detachNetwork, isUserNetwork, leaveNetwork, networkFiles, planNetwork, stopUserNetwork, type NetworkRequest } from "./network";
import { checkPortFree, publishAll } from "../net/ports";
import { abandonedHolder, assertPortsFree, takenPorts } from "./ports";
import { createRootfsDirs, overlayRootMount, removeContainerFiles, removeRootfsDirs, rootfsPaths } from "./rootfs";
import type { SecuritySettings } from "./security-flags";
import { buildSpec } from "./spec";
import { chooseCgroupManager } from "./cgroup-manager";
import { parseTmpfs, parseVolume } from "./mounts";
import { assertNameFree, checkHostname, checkName, checkUser } from "./names";
import { withEngineLock } from "./detached";
import { collectAbandoned } from "./gc";
import { chooseStdio } from "./stdio";
import type { CommandDefaults, ImageRequest, PreparedImage } from "./image";
import { parseUlimits } from "./ulimits";
import { defaultTmpfsSize, parseShmSize } from "./tmpfs-sizes";
import { parseStorageOpts } from "./storage-opt";
import { addAutoUserNamespace, chownToRange, makeRemappedBase, idmappedLowerPaths, mountIdmappedLowers, parseUserns } from "./userns-auto";
import { allocateRange, type IdRange } from "./userns-ranges";
import { checkDiskQuota, limitContainerDisk } from "./disk-quota";
import { rootlessIdentity } from "../runtime/rootless";
import { addUserNamespace, noticeNoCgroupOnce, refuseRootless } from "./rootless/container";
import { rootlessCgroupManager } from "./rootless/cgroup";
import { assertRootStorageDriver, mountFuseRoot, requestedStorageDriver, rootlessStorageDriver, type StorageDriver } from "./rootless/storage-driver";
import { parseLabels } from "./labels";

export interface RunRequest {
  /** The cgroup manager to use; chosen from the host (and MYCR_CGROUP_MANAGER) when absent. */
  cgroupManager?: CgroupManager;
  /** How the root is stacked (MYCR_STORAGE_DRIVER); chosen from the kernel when absent (rootless/storage-driver.ts). */
  storageDriver?: StorageDriver;
  network: NetworkRequest;
  /** Things worth telling the user that are not errors. */
  onNotice?: (message: string) => void;
  /** Plain information (the host ports -P chose). */
  onInfo?: (message: string) => void;
  args: string[];
  resources?: Resources;
  oomScoreAdj?: number;
  /** Lower layer of the root; the host's "/" when absent. */
  rootfs?: string;
  hostname?: string;
  security: SecuritySettings;
  store: StateStore;
  name?: string;
  /** -t / -i; undefined: not given (see chooseStdio). */
  tty?: boolean;
  interactive?: boolean;
  env?: string[];
  envFiles?: string[];
  workdir?: string;
  user?: string;
  volumes?: string[];
  tmpfs?: string[];
  /** --shm-size as given (docker's units). */
  shmSize?: string;
  /** --storage-opt KEY=VALUE as given. */
  storageOpts?: string[];
  /** --userns: host (default) or auto (see userns-auto.ts). */
  userns?: string;
  readOnly?: boolean;
  entrypoint?: string;
  ulimits?: string[];
  keep?: boolean;
  /** Told where the files of a --keep container are, once it exited. */
  onKept?: (upperDir: string) => void;
  init?: boolean;
  /** Set by a detached container's monitor: the id `run -d` already printed. */
  id?: string;
  /** Detached: the container's directory (monitor record, logs) stays after exit; only its root goes. */
  detached?: boolean;
  /** Told once the container's process runs (the supervisor then reports "started"). */
  onStarted?: (init: ProcessRef) => void;
  /** The directory relative paths (--rootfs, -v ./dir:...) mean; this process's when absent. */
  cwd?: string;
  /** Detached: where the container's output goes instead of our own stdio (the supervisor's log pipes). */
  io?: DetachedIo;
  /** --image: the root is the image's layers and its config supplies defaults. */
  image?: ImageRequest;
  /** --label KEY[=VALUE] as given. */
  labels?: string[];
  /** A build step: /tmp is the image's directory (see ContainerSettings.tmpInImage). */
  tmpInImage?: boolean;
  /** Where the container's stdout goes (a build sends it to stderr); ours by default. */
  stdout?: number | "ignore";
  /** A run served for another process (cli/served-run.ts): its stdio and signals instead of ours. */
  caller?: ServedCaller;
  /**
   * Detached, started here for a supervisor to come (./adopt.ts): init's parent is this
   * keeper, and `handOver` gives it the running container; nothing is cleaned up here after.
   */
  keeper?: KeeperSpec;
  handOver?: (launched: Launched) => void;
}

/** The client of a served run: copies of its stdin, stdout and stderr, what it is sent, where warnings go. */
export interface ServedCaller {
  stdin: number;
  stdout: number;
  stderr: number;
  signals: SignalForwarder;
  warn: (message: string) => void;
}

/** A detached container's output: its stdout and stderr pipes, and what copies its terminal (-t). */
export interface DetachedIo {
  /** -i: the read end of the stdin pipe the supervisor feeds (else /dev/null). */
  stdin?: number;
  stdout: number;
  stderr: number;
  /** Takes the master of the container's terminal (ours to close once drained). */
  console: (master: number) => TerminalSession;
}

function checkWorkdir(dir: string): string {
  if (!isAbsolute(dir)) throw new ContainerError(`--workdir ${dir}: must be an absolute path`);
  return dir;
}

/** When this process last looked for what killed mycr processes left, and how often it looks at most. */
let lastLook = -Infinity;
const LOOK_EVERY_MS = 10_000;

export interface RunOutcome extends ForegroundResult {
  id: string;
}

export async function runContainer(req: RunRequest): Promise<RunOutcome> {
  trace("engine: run");
  if (req.image && req.rootfs !== undefined) throw new ContainerError("--image and --rootfs: give one or the other");
  if (!req.image) return runWithRoot(req, undefined, undefined);
  // The image code (registry client, tar reader, store) is loaded only when an image is
  // used: a run from a directory or the host's root does not pay for it at start-up.
  const images = await import("./image");
  const image = await images.prepareImage(req.image);
  try {
    return await runWithRoot(req, image, images.commandFromImage(image.config, { args: req.args, entrypoint: req.entrypoint }));
  } finally {
    await image.release();
  }
}

async function runWithRoot(req: RunRequest, image: PreparedImage | undefined, fromImage: CommandDefaults | undefined): Promise<RunOutcome> {
  // --entrypoint replaces the program; the command's words become its arguments.
  const args = fromImage ? fromImage.args : req.entrypoint ? [req.entrypoint, ...req.args] : req.args;
  if (args.length === 0) throw new ContainerError(`no command given${image ? ` and image ${image.name} has none` : ""}: mycr run [flags] COMMAND [ARG...]`);
  // Every flag is checked before anything exists: bad input leaves nothing behind.
  const lowers = image ? image.lowers : [req.rootfs !== undefined ? checkRootfsDir(req.rootfs, mycrStores(req.store), req.cwd) : "/"];
  const lower = lowers[0]!;
  const name = req.name !== undefined ? checkName(req.name) : undefined;
  const hostname = req.hostname !== undefined ? checkHostname(req.hostname) : undefined;
  const userText = req.user ?? fromImage?.user;
  const user = userText !== undefined ? checkUser(userText) : undefined;
  const cwd = req.workdir !== undefined ? checkWorkdir(req.workdir) : fromImage?.cwd;
  const volumes = (req.volumes ?? []).map((v) => parseVolume(v, req.cwd));
  for (const v of volumes) {
    const store = storeHolding(v.source!, mycrStores(req.store));
    if (store !== undefined) throw new ContainerError(`-v ${v.source}: inside mycr's own store ${store}, which holds other containers' records`);
  }
  const mounts = [...volumes, ...(req.tmpfs ?? []).map(parseTmpfs)];
  const shmSize = req.shmSize !== undefined ? parseShmSize(req.shmSize) : undefined;
  if (shmSize !== undefined && mounts.some((m) => m.destination === "/dev/shm")) {
    throw new ContainerError("--shm-size and a mount on /dev/shm: give one or the other");
  }
  const storage = parseStorageOpts(req.storageOpts ?? []);
  const rootless = rootlessIdentity();
  const userns = parseUserns(req.userns);
  if (userns === "auto" && !image && req.rootfs === undefined) {
    throw new ContainerError("--userns=auto: needs --image or --rootfs (the host's root holds file systems that cannot be idmapped)");
  }
  if (rootless && userns === "auto") throw new ContainerError("--userns=auto: a rootless run is already remapped to your subordinate ids; leave the flag out");
  // A rootless container's cgroup: a scope of the user's systemd, or none at all.
  const rootlessCgroup = rootless ? await rootlessCgroupManager(req.resources) : undefined;
  if (rootless) refuseRootless({ resources: rootlessCgroup === "none" ? req.resources : undefined, storageSize: storage.size, oomScoreAdj: req.oomScoreAdj });
  // MYCR_STORAGE_DRIVER as asked (a detached run's client read it); unset: the kernel decides
  const storageDriver = req.storageDriver ?? requestedStorageDriver();
  if (!rootless) assertRootStorageDriver(storageDriver);
  const driver = rootless ? rootlessStorageDriver(dataRoot(), storageDriver) : "overlay";
  if (storage.size !== undefined) checkDiskQuota();
  const rlimits = parseUlimits(req.ulimits ?? []);
  const caller = req.caller;
  const stdio = chooseStdio(req.tty, req.interactive, caller);
  if (caller && stdio.terminal) throw new ContainerError("a served run has no terminal: run it in its own process");
  const labels = { ...(image?.config.config?.Labels ?? {}), ...parseLabels(req.labels ?? []) };
  const keep = req.keep === true;
  const id = req.id ?? newContainerId();
  if (req.network.publishAll && image) {
    const taken = takenPorts();
    const published = await publishAll(Object.keys(image.config.config?.ExposedPorts ?? {}), (port) => taken.some((t) => t.hostPort === port));
    for (const p of published) req.onInfo?.(`published ${p.containerPort}/${p.protocol} on host port ${p.hostPort} (mycr port ${name ?? id.slice(0, 12)})`);
    req = { ...req, network: { ...req.network, ports: [...req.network.ports, ...published] } };
  }
  const network = planNetwork(req.network, dataRoot(), req.store);
  if ("notice" in network && network.notice) req.onNotice?.(network.notice);
  // A container whose mycr died still has its port rules: collected first, its ports are free.
  if (abandonedHolder(req.network.ports)) await collectAbandoned(req.store, req.onNotice);
  for (const p of req.network.ports) await checkPortFree(p);
  // Before anything exists that a signal could strand. A detached container's supervisor
  // serves many: what it is sent is its own, not any one container's.
  const signals = caller?.signals ?? (req.detached ? ignoreSignals() : forwardSignals());
  const owner = processRef(process.pid)!;
  const dir = containerDir(id);
  if (userns === "auto") makeRemappedBase(dir); // before the paths: they resolve there
  const paths = rootfsPaths(dir);
  const spec = buildSpec({
    id,
    args,
    rootfs: paths.merged,
    // fuse-overlayfs: mounted on merged before init is spawned (below); init binds it as it is
    ...(driver === "overlay" ? { rootMount: overlayRootMount(paths, userns === "auto" ? idmappedLowerPaths(dir, lowers.length) : lowers, { inUserNamespace: userns === "auto", discardedAtExit: !keep }) } : {}),
    hostname,
    // mycr's own stores must not show through the lower layer or a volume that contains
    // them (the host's root however it is spelled, --rootfs /var, -v /run:/x).
    hidePaths: exposedStores([...(image ? [] : [{ hostDir: lower, at: "/" }]), ...volumes.map((v) => ({ hostDir: v.source!, at: v.destination }))], mycrStores(req.store)),
    resources: req.resources,
    oomScoreAdj: req.oomScoreAdj,
    security: req.security,
    env: req.env,
    envFiles: req.envFiles,
    cwd,
    user,
    mounts,
    readonlyRoot: req.readOnly,
    terminal: stdio.terminal,
    consoleSize: stdio.consoleSize,
    rlimits,
    init: req.init,
    imageEnv: fromImage?.env,
    stopSignal: fromImage?.stopSignal,
    tmpfsSize: defaultTmpfsSize(req.resources?.memory?.limit),
    ...(req.tmpInImage ? { tmpInImage: true } : {}),
    ...(shmSize !== undefined ? { shmSize } : {}),
  });
  applyNetwork(spec, network, dir);
  if (rootless) {
    addUserNamespace(spec, rootless);
    if (rootlessCgroup === "none") noticeNoCgroupOnce(dataRoot(), req.onNotice);
  }
  let range: IdRange | undefined;
  let attached: EngineRecord["network"] | undefined;
  let written: EngineRecord | undefined;
  let collecting: Promise<void> | undefined;
  let handedOver = false;
  try {
    // The record first: from then on `mycr gc` knows whose files these are. A name is
    // checked and claimed in one step under the engine lock: names are unique.
    // The network it will join is in the record too: gc detaches whenever this process dies.
    const netns = networkFiles(dir).netns;
    const planned = network.kind === "cni" ? { list: network.list, result: null, netns, ports: req.network.ports } : undefined;
    const record: EngineRecord = {
      id,
      created: new Date().toISOString(),
      owner,
      keep,
      ...(name !== undefined ? { name } : {}),
      ...(image ? { image: image.name, imageId: image.id } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(planned ? { network: planned } : {}),
      ...(isUserNetwork(network) && req.network.ports.length > 0 ? { pastaPorts: req.network.ports } : {}),
    };
    // Claimed once the record exists: gc frees the blocks of containers that have none.
    if (userns === "auto") {
      range = allocateRange(id);
      addAutoUserNamespace(spec, range);
    }
    withEngineLock(() => {
      if (name !== undefined) assertNameFree(name, id);
      assertPortsFree(req.network.ports, id);
      writeRecord(record);
    });
    written = record;
    if (range) {
      // Before init is spawned: its mount namespace is a copy of ours taken then.
      createRootfsDirs(dir);
      chownToRange(dir, range);
      mountIdmappedLowers(dir, lowers, range);
    }
    if (driver === "fuse-overlayfs") {
      // Before init is spawned, as the idmapped lowers: init's mount namespace is a copy of ours taken then.
      const rootDirs = createRootfsDirs(dir);
      mountFuseRoot(rootDirs.merged, lowers, rootDirs.upper, rootDirs.work, storageDriver !== undefined);
    }
    const result = await runForeground({
      id,
      bundle: dir,
      spec,
      store: req.store,
      owner,
      signals,
      cgroupManager: rootlessCgroup ?? req.cgroupManager ?? chooseCgroupManager(),
      stdio: req.io
        ? [req.io.stdin ?? "ignore", req.io.stdout, req.io.stderr]
        : caller
          ? [stdio.attachStdin ? caller.stdin : "ignore", caller.stdout, caller.stderr]
          : [stdio.attachStdin ? "inherit" : "ignore", req.stdout ?? "inherit", "inherit"],
      ...(caller ? { warn: caller.warn } : {}),
      attachStdin: stdio.attachStdin,
      ...(req.io ? { onConsole: req.io.console } : {}),
      ...(req.keeper && req.handOver ? { keeper: req.keeper, handOver: req.handOver } : {}),
      prepareRoot: () => {
        createNetworkFiles(network, dir);
        const rootDirs = createRootfsDirs(dir);
        const diskSize = storage.size;
        if (diskSize !== undefined) withEngineLock(() => limitContainerDisk(rootDirs, diskSize));
      },
      prepare: async (initPid) => {
        const names = [spec.hostname!, ...(name !== undefined ? [name] : [])];
        const result = await attachNetwork(network, req.network, id, initPid, dir, names);
        if (planned) {
          attached = { ...planned, result, names };
          updateRecord({ ...record, network: attached });
          announceOnNetwork({ ...record, network: attached });
        }
      },
      onStarted: (init) => {
        req.onStarted?.(init);
        // Now that the container runs, what killed mycr processes left (no start waits for
        // it); in the supervisor, which starts many, once in a while.
        if (performance.now() - lastLook < LOOK_EVERY_MS) return;
        lastLook = performance.now();
        collecting = Bun.sleep(0).then(() => collectAbandoned(req.store, req.onNotice, id));
      },
    });
    handedOver = result.handedOver === true;
    return { ...result, id };
  } finally {
    // Handed over: the supervisor cleans up once it exited (./adopt.ts).
    if (!handedOver) await release();
    signals.dispose();
    await collecting;
    trace("engine: cleaned up");
  }

  async function release(): Promise<void> {
    await releaseRun(id, written, attached, { detached: req.detached === true, keep, userNetwork: isUserNetwork(network), onNotice: req.onNotice });
    if (keep && existsSync(paths.upper)) req.onKept?.(paths.upper);
  }
}

/**
 * What a run holds once its container is gone: the network it joined (`attached`, as
 * its record says once joined), a rootless network's helper, and its root (all of its
 * files, unless detached: its record and log stay for `ps -a` and `logs`). Also the
 * supervisor's, for a container it took over from its `run -d` (./adopt.ts).
 */
export async function releaseRun(id: string, written: EngineRecord | undefined, attached: EngineRecord["network"] | undefined, opts: { detached: boolean; keep: boolean; userNetwork: boolean; onNotice?: (message: string) => void }): Promise<void> {
  const dir = containerDir(id);
  if (attached) {
    if (written) leaveNetwork({ ...written, network: attached }, (m) => opts.onNotice?.(m));
    try {
      await detachNetwork(attached.list, id, attached.result, attached.netns, attached.ports);
    } catch (e) {
      opts.onNotice?.(`network: ${(e as Error).message}`);
    }
  }
  if (opts.userNetwork) await stopUserNetwork(dir);
  // A detached container's record stays: its ports are free again now, not once its monitor ends.
  if (opts.detached && (written?.network || written?.pastaPorts)) {
    const { network: _released, pastaPorts: _free, ...rest } = written;
    updateRecord(rest);
  }
  if (opts.detached) removeRootfsDirs(dir, opts.keep);
  else removeContainerFiles(dir, opts.keep);
}
