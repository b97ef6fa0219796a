import { createContainer } from "../runtime/create";
import { collectAbandoned } from "../engine/gc";
import { log } from "./log";
import { StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { OCI_CREATE_ARGS, ociCreateOptions, requireId } from "./oci-args";

export default defineMycrCommand({
  meta: { name: "create", description: "Create a container from an OCI bundle (OCI runtime)" },
  args: { ...OCI_CREATE_ARGS, id: { type: "positional", description: "Container id" } },
  needsRoot: true,
  rootless: { caller: true }, // as runc: the caller on the host, the config brings its user namespace
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    await createContainer({
      id: requireId(args, "create"),
      bundleDir: single(args.bundle) ?? ".",
      store,
      ...ociCreateOptions(args, global),
    });
    // Created: now, not before, what killed mycr processes left.
    await collectAbandoned(store, (m) => log.warn(m));
    return 0;
  },
});
