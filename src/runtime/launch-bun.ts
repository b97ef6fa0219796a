// Bun's init: the way a container starts where the native init (launch-native.ts) does
// not cover its config. A second Bun process is spawned into the new namespaces with
// `mycr init`, handed its fds and config over a socket, and reports when it is ready.
// Loaded by launch.ts only then.
import { trace } from "./trace";
import { close, kill, receiveFd, socketPair } from "../sys";
import { makeExecFifo } from "./exec-fifo";
import { createCgroup, type Cgroup, type CgroupManager } from "../cgroups";
import { withDefaultDevices } from "../security/devices";
import { MessageReader, initFailure, sendMessage, type InitConfig, type InitMessage } from "./messages";
import { runHooks } from "./hooks";
import { releaseSharedMounts } from "./shared-mounts";
import { seccompCacheDir } from "./paths";
import type { NamespacePlan } from "./namespaces";
import { prepareHandover, type Handover } from "./handover";
import { processRef } from "./procfs";
import { containerSelfCommand } from "./self";
import { spawnInit, type ChildStdio, type ContainerProcess } from "./spawn-init";
import type { ContainerRecord } from "./state";
import { warnUnraisableAmbient } from "./security";
import { warn } from "./warn";
import { rootfsOf, type Launched, type LaunchOptions } from "./launch";

/** init needs nothing from our environment; only tracing is passed on. */
function initEnvironment(): Record<string, string> {
  return process.env.MYCR_TRACE ? { MYCR_TRACE: process.env.MYCR_TRACE } : {};
}

/** launch's way with Bun's init, after launch's checks and the claim of the id. */
export async function launchBun(opts: LaunchOptions & { cgroupManager: CgroupManager }, plan: NamespacePlan, bundle: string): Promise<Launched> {
  const { id, spec, store, cgroupManager } = opts;
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
      ...(opts.startImmediately ? {} : { execFifo: true }),
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
