import { findContainer } from "../engine/containers";
import { inspectContainer } from "../engine/inspect";
import { StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "inspect", description: "Show containers' configuration and state as JSON (docker's shape)" },
  args: {
    container: { type: "positional", description: "Container names or ids" },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    const found: Record<string, unknown>[] = [];
    const code = await eachContainer(args._, "inspect", (ref) => {
      found.push(inspectContainer(findContainer(store, ref)));
    });
    out(JSON.stringify(found, null, 2));
    return code;
  },
});
