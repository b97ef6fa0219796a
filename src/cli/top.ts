import { StateStore } from "../runtime/state";
import { ContainerError } from "../runtime/errors";
import { defineMycrCommand } from "./command";
import { showProcesses } from "./ps";

export default defineMycrCommand({
  meta: { name: "top", description: "Show the processes of a container (ps options may follow)" },
  args: {
    container: { type: "positional", description: "Container name or id, then options for ps(1)" },
  },
  parse: { stopAtFirstPositional: true },
  needsRoot: true,
  // the processes of another user namespace's container are only its root's to look at
  rootless: { join: (args) => args._[0] },
  run(args, global) {
    const [ref, ...psArgs] = args._;
    if (!ref) throw new ContainerError("top needs a container name or id");
    return showProcesses(new StateStore(global.stateRoot), ref, psArgs, false);
  },
});
