import { findContainer } from "../engine/containers";
import { renameContainer } from "../engine/rename";
import { StateStore } from "../runtime/state";
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";

export default defineMycrCommand({
  meta: { name: "rename", description: "Rename a container" },
  args: { container: { type: "positional", description: "CONTAINER NEW_NAME" } },
  needsRoot: true,
  run(args, global) {
    if (args._.length !== 2) throw new UsageError("rename needs two arguments: mycr rename CONTAINER NEW_NAME");
    const [ref, name] = args._ as [string, string];
    const store = new StateStore(global.stateRoot);
    renameContainer(findContainer(store, ref), name);
    return 0;
  },
});
