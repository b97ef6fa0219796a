// `mycr run -d`: records the container, starts its monitor in a session of its own,
// and returns the id once the monitor reports the container's process running (or
// fails with the monitor's error). The caller may exit at once; the monitor stays.
import { mkdirSync, rmSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { isAlive, processRef } from "../runtime/procfs";
import { selfCommand } from "../runtime/self";
import { close, pipe } from "../sys";
import { withEngineLock, writeDetached, type DetachedRecord } from "./detached";
import { newContainerId } from "./ids";
import { parseLogOptions } from "./logs";
import { resolveEnv } from "./env";
import { readReport } from "./monitor-messages";
import { assertNameFree, checkHostname, checkName } from "./names";
import { containerDir, makeContainersDir } from "./paths";
import { parseRestart } from "./restart";
import { checkRootfsDir, mycrStores, type RunRequest } from "./run";

export interface DetachOptions {
  restart?: string;
  /** --rm: remove the container (record, logs) when it exits for good. */
  autoRemove: boolean;
  logOpts: string[];
}

export async function runDetached(req: RunRequest, opts: DetachOptions): Promise<string> {
  const restart = parseRestart(opts.restart);
  if (restart.name !== "no" && opts.autoRemove) throw new ContainerError("--rm and --restart cannot be used together");
  const log = parseLogOptions(opts.logOpts);
  if (req.name !== undefined) checkName(req.name);
  if (req.hostname !== undefined) checkHostname(req.hostname);
  // Checked here too, before the monitor exists: bad input leaves nothing behind.
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
  const { store, onKept: _onKept, onStarted: _onStarted, id: _id, detached: _detached, ...given } = req;
  const request = { ...given, env: resolveEnv(req.envFiles ?? [], req.env ?? []), envFiles: [] };
  const id = newContainerId();
  const record: DetachedRecord = {
    id,
    ...(req.name !== undefined ? { name: req.name } : {}),
    created: new Date().toISOString(),
    image,
    command,
    request,
    stateRoot: store.root,
    cwd: process.cwd(),
    restart,
    autoRemove: opts.autoRemove,
    log,
    status: "created",
    restartCount: 0,
  };
  withEngineLock(() => {
    if (req.name !== undefined) assertNameFree(req.name, id);
    makeContainersDir();
    mkdirSync(containerDir(id), { mode: 0o700 });
    writeDetached(record);
  });
  await launchMonitor(id, process.cwd(), () => rmSync(containerDir(id), { recursive: true, force: true }));
  return id;
}

/**
 * Starts the monitor of the recorded container `id` in a session of its own and returns
 * once it reports the container's process running. When it does not, and the monitor is
 * gone, `undo` runs under the engine lock; the monitor's error is thrown.
 */
export async function launchMonitor(id: string, cwd: string, undo: () => void): Promise<void> {
  const [ours, theirs] = pipe();
  let monitor;
  try {
    const stdio: ["ignore", "ignore", "ignore", number] = ["ignore", "ignore", "ignore", theirs];
    // The caller's directory and environment: relative paths and `-e KEY` mean what they meant here.
    monitor = Bun.spawn(selfCommand("monitor", id), { stdio, env: { ...process.env, MYCR_MONITOR: "1" }, cwd });
  } catch (e) {
    withEngineLock(undo);
    throw e;
  } finally {
    close(theirs);
  }
  const report = await readReport(ours);
  close(ours);
  if (report?.type === "started") {
    monitor.unref();
    return;
  }
  const ref = processRef(monitor.pid);
  await Promise.race([monitor.exited, Bun.sleep(5000)]);
  if (!ref || !isAlive(ref)) withEngineLock(undo);
  if (report?.type === "error") throw new ContainerError(report.message, report.code);
  throw new ContainerError("the container's monitor exited before the container started");
}
