// docker attach needs the container's stdin and terminal kept by someone who outlives
// `run -d`: a detached container's monitor gives it /dev/null and keeps only its output
// (in the log). Until the monitor serves an attach socket, attach says so and names
// what works, rather than pretend with half of it.
import { findContainer } from "../engine/containers";
import { ContainerError } from "../runtime/errors";
import { StateStore } from "../runtime/state";
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";

export default defineMycrCommand({
  meta: { name: "attach", description: "Not yet: a detached container's monitor keeps no stdin or terminal to attach to (use logs -f, exec -it)" },
  args: { container: { type: "positional", description: "Container name or id" } },
  needsRoot: true,
  run(args, global) {
    if (args._.length !== 1) throw new UsageError("attach needs one container: mycr attach CONTAINER");
    const ref = args._[0]!;
    findContainer(new StateStore(global.stateRoot), ref); // a wrong name is said as such
    throw new ContainerError(`attach ${ref}: not supported yet: a detached container's monitor keeps no stdin or terminal to attach to; follow its output with mycr logs -f ${ref}, or open a shell with mycr exec -it ${ref} sh`);
  },
});
