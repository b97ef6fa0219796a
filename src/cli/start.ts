import { startContainer } from "../runtime/start";
import { StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { requireId } from "./create";

export default defineMycrCommand({
  meta: { name: "start", description: "Start a created container (OCI runtime)" },
  args: { id: { type: "positional", description: "Container id" } },
  needsRoot: true,
  async run(args, global) {
    await startContainer(new StateStore(global.stateRoot), requireId(args, "start"));
    return 0;
  },
});
