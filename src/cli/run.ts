import { runContainer } from "../engine/run";
import { StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";

export default defineMycrCommand({
  meta: { name: "run", description: "Run a command in a new container (foreground)" },
  args: {
    rootfs: {
      type: "string",
      description: "Directory to use as the read-only lower layer of the root (default: the host's /)",
      valueHint: "DIR",
    },
    hostname: { type: "string", description: "Container host name (default: the first 12 characters of its id)" },
    command: { type: "positional", description: "Command and its arguments", required: false },
  },
  parse: { stopAtFirstPositional: true },
  needsRoot: true,
  run(args, global) {
    return runContainer({
      args: args._,
      rootfs: single(args.rootfs),
      hostname: single(args.hostname),
      store: new StateStore(global.stateRoot),
    });
  },
});
