import { StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { OCI_CREATE_ARGS, ociCreateOptions, requireId } from "./oci-args";
import { ociCreate } from "./oci-create";

export default defineMycrCommand({
  meta: { name: "create", description: "Create a container from an OCI bundle (OCI runtime)" },
  args: { ...OCI_CREATE_ARGS, id: { type: "positional", description: "Container id" } },
  needsRoot: true,
  rootless: { caller: true }, // as runc: the caller on the host, the config brings its user namespace
  async run(args, global) {
    await ociCreate(new StateStore(global.stateRoot), requireId(args, "create"), single(args.bundle) ?? ".", ociCreateOptions(args, global));
    return 0;
  },
});
