import { commitContainer } from "../engine/commit";
import { hex } from "../image/store";
import { StateStore } from "../runtime/state";
import { UsageError, list, single } from "./argv";
import { defineMycrCommand } from "./command";
import { log } from "./log";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "commit", description: "Make an image of a container's changes (a new layer on its image); prints its id" },
  args: {
    change: { type: "string", alias: "c", description: "Set config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, WORKDIR (repeatable)", valueHint: "INSTRUCTION" },
    message: { type: "string", alias: "m", description: "Commit message (the history entry's comment)", valueHint: "TEXT" },
    author: { type: "string", alias: "a", description: "Author (\"Name <email>\")", valueHint: "TEXT" },
    pause: { type: "boolean", alias: "p", default: true, description: "Freeze a running container while its files are read (--pause=false: read them live)" },
    container: { type: "positional", description: "Container id or name", required: true },
    reference: { type: "positional", description: "Name for the image (none: untagged)", required: false },
  },
  needsRoot: true,
  async run(args, global) {
    if (args._.length < 1 || args._.length > 2) throw new UsageError("usage: mycr commit [flags] CONTAINER [REFERENCE]");
    const id = await commitContainer(new StateStore(global.stateRoot), args._[0]!, {
      name: args._[1],
      changes: list(args.change),
      message: single(args.message),
      author: single(args.author),
      pause: args.pause !== false,
      onWarning: (m) => log.warn(m),
    });
    out(`sha256:${hex(id)}`);
    return 0;
  },
});
