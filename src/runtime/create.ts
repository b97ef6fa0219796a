// `create`: everything set up, the process waiting on the exec FIFO until `start`.
import { writeFileSync } from "node:fs";
import { close } from "../sys";
import { launch, type Stdio } from "./launch";
import { loadBundle } from "./bundle";
import type { StateStore } from "./state";

export interface CreateOptions {
  id: string;
  bundleDir: string;
  store: StateStore;
  pidFile?: string;
  noPivot?: boolean;
  stdio?: Stdio;
}

export async function createContainer(opts: CreateOptions): Promise<number> {
  const { bundle, spec } = loadBundle(opts.bundleDir);
  const launched = await launch({
    id: opts.id,
    bundle,
    spec,
    store: opts.store,
    startImmediately: false,
    noPivot: opts.noPivot,
    stdio: opts.stdio,
  });
  // The container lives on after we exit; its parent becomes our caller's subreaper.
  launched.process.unref();
  close(launched.sync);
  const pid = launched.record.init!.pid;
  if (opts.pidFile) writeFileSync(opts.pidFile, String(pid));
  return pid;
}
