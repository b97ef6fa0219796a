import { findContainer, refresh } from "../engine/containers";
import { startDetached } from "../engine/start";
import { stopContainer } from "../engine/stop";
import { parseInteger } from "../engine/units";
import { ContainerError } from "../runtime/errors";
import { parseSignal } from "../runtime/kill";
import { StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "restart", description: "Restart detached containers: stop (the stop signal, then SIGKILL after a grace period), then start with the same configuration, name and log" },
  args: {
    time: { type: "string", alias: "t", description: "Seconds to wait before SIGKILL (default 10)", valueHint: "SECONDS" },
    signal: { type: "string", alias: "s", description: "The stop signal (default SIGTERM)", valueHint: "SIGNAL" },
    container: { type: "positional", description: "Container names or ids" },
  },
  needsRoot: true,
  async run(args, global) {
    const time = parseInteger("--time", single(args.time) ?? "10", 0, 86_400);
    const signal = parseSignal(single(args.signal) ?? "SIGTERM");
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
