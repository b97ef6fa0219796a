import { findContainer, refresh } from "../engine/containers";
import { startDetached } from "../engine/start";
import { stopContainer } from "../engine/stop";
import { ContainerError } from "../runtime/errors";
import { StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { out } from "./output";
import { STOP_ARGS, stopOptions } from "./stop";

export default defineMycrCommand({
  meta: { name: "restart", description: "Restart detached containers: stop (the stop signal, then SIGKILL after a grace period), then start with the same configuration, name and log" },
  args: {
    ...STOP_ARGS,
    container: { type: "positional", description: "Container names or ids" },
  },
  needsRoot: true,
  async run(args, global) {
    const { time, signal } = stopOptions(args);
    const store = new StateStore(global.stateRoot);
    return eachContainer(args._, "restart", async (ref) => {
      const view = findContainer(store, ref);
      // A foreground run belongs to the mycr that waits for it, an OCI container to its client.
      if (!view.detached) throw new ContainerError(`cannot restart container ${ref}: only detached containers (run -d) can be started again`);
      await stopContainer(store, view, time, signal);
      const stopped = refresh(store, view.id);
      if (!stopped) throw new ContainerError(`cannot restart container ${ref}: it was removed when it stopped (--rm)`);
      await startDetached(store, stopped, ref);
      out(ref);
    });
  },
});
