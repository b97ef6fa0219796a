// docker attach: the detached container's output, as it comes, from its supervisor
// (src/engine/attach-hub.ts), stdout and stderr each to ours; ends with its exit code.
import { findContainer } from "../engine/containers";
import { attachSupervised } from "../engine/supervisor-client";
import { ContainerError } from "../runtime/errors";
import { StateStore } from "../runtime/state";
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";
import { writeAll } from "./output";

export default defineMycrCommand({
  meta: { name: "attach", description: "Show a running detached container's output as it comes; exit with its exit code" },
  args: { container: { type: "positional", description: "Container name or id" } },
  needsRoot: true,
  async run(args, global) {
    if (args._.length !== 1) throw new UsageError("attach needs one container: mycr attach CONTAINER");
    const ref = args._[0]!;
    const view = findContainer(new StateStore(global.stateRoot), ref);
    if (!view.detached) throw new ContainerError(`container ${ref} was not started with run -d: nothing keeps its output to attach to`);
    const code = await attachSupervised(view.id, (stream, data) => writeAll(stream === "stderr" ? 2 : 1, data));
    if (code === null) throw new ContainerError(`attach ${ref}: mycr's supervisor went away`);
    return code;
  },
});
