// `mycr run` in the foreground: an overlay root over the chosen lower layer, a spec
// from the flags, the runtime to run it, and everything removed afterwards.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { ContainerError } from "../runtime/errors";
import { processRef } from "../runtime/procfs";
import { runForeground, type ForegroundResult } from "../runtime/run";
import type { Resources } from "../spec/types";
import { forwardSignals } from "../runtime/signals";
import { StateStore } from "../runtime/state";
import { trace } from "../runtime/trace";
import { newContainerId } from "./ids";
import { containerDir, dataRoot } from "./paths";
import { writeRecord } from "./record";
import { createRootfsDirs, overlayRootMount, removeContainerFiles, rootfsPaths } from "./rootfs";
import type { SecuritySettings } from "./security-flags";
import { buildSpec } from "./spec";

export interface RunRequest {
  args: string[];
  resources?: Resources;
  oomScoreAdj?: number;
  /** Lower layer of the root; the host's "/" when absent. */
  rootfs?: string;
  hostname?: string;
  security: SecuritySettings;
  store: StateStore;
}

function checkRootfsDir(path: string): string {
  const abs = resolve(path);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new ContainerError(`--rootfs ${path}: no such directory`);
  }
  if (!isDir) throw new ContainerError(`--rootfs ${path}: not a directory`);
  return abs;
}

export interface RunOutcome extends ForegroundResult {
  id: string;
}

export async function runContainer(req: RunRequest): Promise<RunOutcome> {
  trace("engine: run");
  if (req.args.length === 0) throw new ContainerError("no command given: mycr run [flags] COMMAND [ARG...]");
  const lower = req.rootfs ? checkRootfsDir(req.rootfs) : "/";
  const signals = forwardSignals(); // before anything exists that a signal could strand
  const id = newContainerId();
  const owner = processRef(process.pid)!;
  const dir = containerDir(id);
  const paths = rootfsPaths(dir);
  const spec = buildSpec({
    id,
    args: req.args,
    rootfs: paths.merged,
    rootMount: overlayRootMount(paths, [lower]),
    hostname: req.hostname,
    // With the host's root as the lower layer, mycr's own stores would show through.
    hidePaths: lower === "/" ? [dataRoot(), req.store.root] : [],
    resources: req.resources,
    oomScoreAdj: req.oomScoreAdj,
    security: req.security,
  });
  try {
    const result = await runForeground({
      id,
      bundle: dir,
      spec,
      store: req.store,
      owner,
      signals,
      // The record first: from then on `mycr gc` knows whose files these are.
      prepare: () => {
        writeRecord({ id, created: new Date().toISOString(), owner, keep: false });
        createRootfsDirs(dir);
      },
    });
    return { ...result, id };
  } finally {
    removeContainerFiles(dir);
    signals.dispose();
    trace("engine: cleaned up");
  }
}
