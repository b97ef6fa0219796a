// `run --bundle DIR [-d] ID`: runc's run, create and start in one, for OCI bundles.
import { createContainer } from "../runtime/create";
import { loadBundle } from "../runtime/bundle";
import { processRef } from "../runtime/procfs";
import { runForeground } from "../runtime/run";
import { startContainer } from "../runtime/start";
import { StateStore } from "../runtime/state";
import { single, UsageError, type ParsedFlags } from "./argv";
import type { GlobalOptions } from "./command";
import { ociCreateOptions, requireId } from "./create";

export async function runBundle(args: ParsedFlags, global: GlobalOptions): Promise<number> {
  // A bundle's config.json says its mounts and its root: these run flags would be ignored.
  for (const flag of ["shm-size", "storage-opt"]) {
    if (args[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --bundle (the bundle's config.json sets its mounts and root)`);
  }
  const id = requireId(args, "run --bundle");
  const store = new StateStore(global.stateRoot);
  const bundleDir = single(args.bundle) ?? ".";
  if (args.detach) {
    await createContainer({ id, bundleDir, store, ...ociCreateOptions(args) });
    await startContainer(store, id);
    return 0;
  }
  const { bundle, spec } = loadBundle(bundleDir);
  const result = await runForeground({
    id,
    bundle,
    spec,
    store,
    owner: processRef(process.pid)!,
    ...ociCreateOptions(args),
    attachStdin: spec.process?.terminal === true, // runc run: the terminal is the caller's
  });
  return result.exitCode;
}
