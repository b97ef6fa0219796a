import { findContainer } from "../engine/containers";
import { removeContainer } from "../engine/remove";
import { StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "rm", description: "Remove containers (docker's flags over delete)" },
  args: {
    force: { type: "boolean", alias: "f", description: "Kill a running container first" },
    volumes: { type: "boolean", alias: "v", description: "Accepted for docker's sake: mycr has no anonymous volumes to remove" },
    container: { type: "positional", description: "Container names or ids" },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    return eachContainer(args._, "rm", async (ref) => {
      await removeContainer(store, findContainer(store, ref), args.force === true);
      out(ref);
    });
  },
});
