import { findContainer, refresh } from "../engine/containers";
import { running, waitUntil } from "../engine/stop";
import { ContainerError } from "../runtime/errors";
import { StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "wait", description: "Wait until containers stop, then print their exit codes" },
  args: {
    container: { type: "positional", description: "Container names or ids" },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    return eachContainer(args._, "wait", async (ref) => {
      const view = findContainer(store, ref);
      if (!view.detached) throw new ContainerError(`container ${ref}: only containers started with run -d have an exit code mycr keeps`);
      let last = view;
      await waitUntil(() => {
        const now = refresh(store, view.id);
        if (now) last = now;
        return !now || (!running(now) && now.state !== "created");
      }, Number.POSITIVE_INFINITY);
      // A container whose monitor was killed has no exit code: -1, as docker prints for one it lost.
      out(String(last.state === "dead" ? -1 : (last.exitCode ?? -1)));
    });
  },
});
