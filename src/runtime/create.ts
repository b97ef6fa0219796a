// `create`: everything set up, the process waiting on the exec FIFO until `start`.
import { writeFileSync } from "node:fs";
import { close } from "../sys";
import type { CgroupManager } from "../cgroups";
import { launch, type Stdio } from "./launch";
import { loadBundle } from "./bundle";
import { requireConsoleSocket, sendConsole } from "./console-socket";
import type { StateStore } from "./state";

export interface CreateOptions {
  id: string;
  bundleDir: string;
  store: StateStore;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  newKeyring?: boolean;
  stdio?: Stdio;
  cgroupManager?: CgroupManager;
}

export async function createContainer(opts: CreateOptions): Promise<number> {
  const { bundle, spec } = loadBundle(opts.bundleDir);
  requireConsoleSocket(spec.process?.terminal === true, opts.consoleSocket, "create");
  const launched = await launch({
    id: opts.id,
    bundle,
    spec,
    store: opts.store,
    startImmediately: false,
    noPivot: opts.noPivot,
    preserveFds: opts.preserveFds,
    newKeyring: opts.newKeyring,
    stdio: opts.stdio,
    cgroupManager: opts.cgroupManager,
  });
  // The container lives on after we exit; its parent becomes our caller's subreaper.
  launched.process.unref();
  close(launched.sync);
  if (launched.console !== undefined) sendConsole(opts.consoleSocket!, launched.console);
  const pid = launched.record.init!.pid;
  if (opts.pidFile) writeFileSync(opts.pidFile, String(pid));
  return pid;
}
