import { findContainer } from "../engine/containers";
import { stopContainer } from "../engine/stop";
import { parseInteger } from "../engine/units";
import { parseSignal } from "../runtime/kill";
import { StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "stop", description: "Stop containers: the stop signal, then SIGKILL after a grace period" },
  args: {
    time: { type: "string", alias: "t", description: "Seconds to wait before SIGKILL (default 10)", valueHint: "SECONDS" },
    signal: { type: "string", alias: "s", description: "The stop signal (default SIGTERM)", valueHint: "SIGNAL" },
    container: { type: "positional", description: "Container names or ids" },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args, global) {
    const time = parseInteger("--time", single(args.time) ?? "10", 0, 86_400);
    const signal = parseSignal(single(args.signal) ?? "SIGTERM");
    const store = new StateStore(global.stateRoot);
    return eachContainer(args._, "stop", async (ref) => {
      await stopContainer(store, findContainer(store, ref), time, signal);
      out(ref);
    });
  },
});
