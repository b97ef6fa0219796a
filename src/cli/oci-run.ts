// `run --bundle DIR [-d] ID`: runc's run, create and start in one, for OCI bundles.
import { createContainer } from "../runtime/create";
import { collectAbandoned } from "../engine/gc";
import { log } from "./log";
import { loadBundle } from "../runtime/bundle";
import { processRef } from "../runtime/procfs";
import { runForeground } from "../runtime/run";
import { startContainer } from "../runtime/start";
import { StateStore } from "../runtime/state";
import { single, UsageError, type ParsedFlags } from "./argv";
import type { GlobalOptions } from "./command";
import { ociCreateOptions } from "./create";
import { requireId } from "./require-id";

export async function runBundle(args: ParsedFlags, global: GlobalOptions): Promise<number> {
  // A bundle's config.json says its mounts and its root: these run flags would be ignored.
  for (const flag of ["shm-size", "storage-opt"]) {
    if (args[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --bundle (the bundle's config.json sets its mounts and root)`);
  }
  const id = requireId(args, "run --bundle");
  const store = new StateStore(global.stateRoot);
  const bundleDir = single(args.bundle) ?? ".";
  // Once the container runs, what killed mycr processes left (see collectAbandoned).
  const collect = () => collectAbandoned(store, (m) => log.warn(m));
  if (args.detach) {
    await createContainer({ id, bundleDir, store, ...ociCreateOptions(args, global) });
    await startContainer(store, id);
    await collect();
    return 0;
  }
  const { bundle, spec } = loadBundle(bundleDir);
  let collecting: Promise<void> | undefined;
  try {
    const result = await runForeground({
      id,
      bundle,
      spec,
      store,
      owner: processRef(process.pid)!,
      ...ociCreateOptions(args, global),
      attachStdin: spec.process?.terminal === true, // runc run: the terminal is the caller's
      onStarted: () => {
        collecting = Bun.sleep(0).then(collect);
      },
    });
    return result.exitCode;
  } finally {
    await collecting;
  }
}
