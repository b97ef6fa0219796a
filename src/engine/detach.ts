// `mycr run -d`: records the container, hands it to the supervisor (started when none
// runs), and returns the id once the supervisor reports the container's process running
// (or fails with the supervisor's error). The caller may exit at once.
import { rmSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { MONITOR_FILE, withEngineLock, type DetachedRecord } from "./detached";
import { makeDirAtomic } from "../runtime/atomic";
import { newContainerId } from "./ids";
import { parseLogOptions } from "./logs";
import { resolveEnv } from "./env";
import { startSupervised } from "./supervisor-client";
import { requestedStorageDriver } from "./rootless/storage-driver";
import { chooseCgroupManager } from "./cgroup-manager";
import { assertNameFree, checkHostname, checkName } from "./names";
import { containerDir, makeContainersDir } from "./paths";
import { parseRestart } from "./restart";
import { checkRootfsDir, mycrStores } from "./host-view";
import type { RunRequest } from "./run";

export interface DetachOptions {
  restart?: string;
  /** --rm: remove the container (record, logs) when it exits for good. */
  autoRemove: boolean;
  logOpts: string[];
}

/**
 * Hands the recorded container to the supervisor and returns once its process runs; the
 * supervisor's client by default, the supervisor itself for a run it serves.
 */
export type StartSupervised = (id: string, undo: () => void) => Promise<void>;

export async function runDetached(req: RunRequest, opts: DetachOptions, start: StartSupervised = startSupervised): Promise<string> {
  const restart = parseRestart(opts.restart);
  if (restart.name !== "no" && opts.autoRemove) throw new ContainerError("--rm and --restart cannot be used together");
  const log = parseLogOptions(opts.logOpts);
  if (req.name !== undefined) checkName(req.name);
  if (req.hostname !== undefined) checkHostname(req.hostname);
  // Checked here too, before the supervisor has it: bad input leaves nothing behind.
  if (req.rootfs !== undefined) checkRootfsDir(req.rootfs, mycrStores(req.store));
  let command = req.entrypoint ? [req.entrypoint, ...req.args] : req.args;
  let image = req.rootfs ?? "host";
  if (req.image && req.rootfs === undefined) {
    const pulled = await (await import("./image")).pullForDetached(req.image, { args: req.args, entrypoint: req.entrypoint });
    req = { ...req, image: pulled.request };
    command = pulled.command;
    image = pulled.name;
  }
  if (command.length === 0) throw new ContainerError(`no command given${req.image ? ` and image ${image} has none` : ""}: mycr run -d [flags] COMMAND [ARG...]`);
  const { store, onKept: _onKept, onStarted: _onStarted, id: _id, detached: _detached, io: _io, cwd: _cwd, ...given } = req;
  // Resolved here, in the caller's environment: the supervisor has the environment of
  // whichever command started it.
  const storageDriver = given.storageDriver ?? requestedStorageDriver();
  const request = {
    ...given,
    env: resolveEnv(req.envFiles ?? [], req.env ?? []),
    envFiles: [],
    cgroupManager: given.cgroupManager ?? chooseCgroupManager(),
    ...(storageDriver ? { storageDriver } : {}),
  };
  const id = newContainerId();
  const record: DetachedRecord = {
    id,
    ...(req.name !== undefined ? { name: req.name } : {}),
    created: new Date().toISOString(),
    image,
    command,
    request,
    stateRoot: store.root,
    cwd: req.cwd ?? process.cwd(),
    restart,
    autoRemove: opts.autoRemove,
    log,
    status: "created",
    restartCount: 0,
  };
  withEngineLock(() => {
    if (req.name !== undefined) assertNameFree(req.name, id);
    makeContainersDir();
    // With its record or not at all: a run -d killed here leaves no empty directory.
    makeDirAtomic(containerDir(id), { [MONITOR_FILE]: JSON.stringify(record, null, 2) });
  });
  const undo = (): void => rmSync(containerDir(id), { recursive: true, force: true });
  // With no supervisor yet, started here and handed to one made for it (./adopt.ts:
  // root's only; loaded only then, as it loads the code that starts containers).
  if (start === startSupervised && process.geteuid?.() === 0) {
    try {
      const { startForSupervisor } = await import("./adopt");
      if (await startForSupervisor(record)) return id;
    } catch (e) {
      withEngineLock(undo);
      throw e;
    }
  }
  await start(id, undo);
  return id;
}
