import { ociState, StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { requireId } from "./require-id";
import { loadRuntime } from "../engine/containers";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "state", description: "Print a container's state as the OCI runtime-spec defines it (JSON)" },
  args: { id: { type: "positional", description: "Container id" } },
  needsRoot: true,
  rootless: { caller: true }, // as runc: the caller on the host, the config brings its user namespace
  run(args, global) {
    const store = new StateStore(global.stateRoot);
    out(JSON.stringify(ociState(loadRuntime(store, requireId(args, "state"))), null, 2));
    return 0;
  },
});
