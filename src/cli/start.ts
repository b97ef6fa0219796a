import { refresh, resolveContainerId } from "../engine/containers";
import { startContainer } from "../runtime/start";
import { StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { requireId } from "./oci-args";
import { out } from "./output";
import { callersOciContainer } from "./oci-caller";

export default defineMycrCommand({
  meta: { name: "start", description: "Start a created container (OCI runtime), or a detached one that exited again (docker)" },
  args: { id: { type: "positional", description: "Container id, name or unique id prefix" } },
  needsRoot: true,
  rootless: { caller: callersOciContainer, otherwise: { refuse: "the docker face's start is not supported without root yet; run the container again with mycr run -d" } },
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    const ref = requireId(args, "start");
    const id = resolveContainerId(store, ref);
    const view = refresh(store, id);
    if (view?.detached) {
      // docker's start: prints what it was given, once the container runs (the supervisor's
      // client loads only here: the OCI runtime's start needs the state store and the fifo)
      const { startDetached } = await import("../engine/start");
      await startDetached(store, view, ref);
      out(ref);
      return 0;
    }
    await startContainer(store, id); // the OCI runtime's start: silent, as runc
    return 0;
  },
});
