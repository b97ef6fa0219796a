import { deleteContainer } from "../runtime/delete";
import { StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { requireId } from "./create";
import { resolveContainerId } from "../engine/containers";

export default defineMycrCommand({
  meta: { name: "delete", description: "Delete a stopped container (--force: also a running one)" },
  args: {
    force: { type: "boolean", alias: "f", description: "Kill the container first if it is running" },
    id: { type: "positional", description: "Container id" },
  },
  needsRoot: true,
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    await deleteContainer(store, resolveContainerId(store, requireId(args, "delete")), args.force === true);
    return 0;
  },
});
