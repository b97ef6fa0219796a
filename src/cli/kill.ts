import { findContainer, listContainers } from "../engine/containers";
import { killContainer, parseSignal } from "../runtime/kill";
import { StateStore } from "../runtime/state";
import { ContainerError } from "../runtime/errors";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { out } from "./output";
import { callersOciContainer } from "./oci-caller";

function isSignal(text: string): boolean {
  try {
    parseSignal(text);
    return true;
  } catch {
    return false;
  }
}

export default defineMycrCommand({
  meta: { name: "kill", description: "Send a signal to containers (default SIGTERM): kill ID [SIGNAL] or kill [-s SIGNAL] NAME..." },
  args: {
    all: { type: "boolean", alias: "a", description: "Send it to every process in the container" },
    signal: { type: "string", alias: "s", description: "Signal name or number", valueHint: "SIGNAL" },
    id: { type: "positional", description: "Container names or ids (runc's form: one id, then the signal)" },
  },
  needsRoot: true,
  rootless: { caller: callersOciContainer, otherwise: "enter" },
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    const positional = args._;
    if (positional.length === 0) throw new ContainerError("kill needs a container id");
    let refs = positional;
    let signalText = single(args.signal);
    let runcForm = false;
    // runc's `kill ID SIGNAL`: two words, the second not a container (a bad signal is named as such).
    if (signalText === undefined && positional.length === 2) {
      const second = positional[1]!;
      if (isSignal(second) || !listContainers(store).some((c) => c.id === second || c.name === second)) {
        refs = [positional[0]!];
        signalText = second;
        runcForm = true;
      }
    }
    const signal = parseSignal(signalText ?? "SIGTERM");
    return eachContainer(refs, "kill", (ref) => {
      const view = findContainer(store, ref);
      if (!view.runtime) throw new ContainerError(`cannot kill container ${ref}: it is ${view.state}`);
      killContainer(store, view.id, signal, args.all === true);
      // docker's kill names each container it signalled, as typed; runc's (`kill ID SIG`,
      // and any container the OCI face made) prints nothing: its callers read no output.
      if (!runcForm && (view.detached || view.engine)) out(ref);
    });
  },
});
