import { deleteContainer } from "../runtime/delete";
import { ContainerNotFound, StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { requireId } from "./require-id";
import { resolveContainerId } from "../engine/containers";

export default defineMycrCommand({
  meta: { name: "delete", description: "Delete a stopped container (--force: also a running one)" },
  args: {
    force: { type: "boolean", alias: "f", description: "Kill the container first if it is running" },
    id: { type: "positional", description: "Container id" },
  },
  needsRoot: true,
  rootless: { caller: true }, // as runc: the caller on the host, the config brings its user namespace
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    const ref = requireId(args, "delete");
    const force = args.force === true;
    let id = ref;
    try {
      id = resolveContainerId(store, ref);
    } catch (e) {
      // --force of a container that does not exist succeeds, as runc's does (clients clean up with it)
      if (!(force && e instanceof ContainerNotFound)) throw e;
    }
    await deleteContainer(store, id, force);
    return 0;
  },
});
