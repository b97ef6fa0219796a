import { findContainer } from "../engine/containers";
import { stopContainer } from "../engine/stop";
import { parseInteger } from "../engine/units";
import { parseSignal } from "../runtime/kill";
import { StateStore } from "../runtime/state";
import { single, type ParsedFlags } from "./argv";
import { defineMycrCommand } from "./command";
import { eachContainer } from "./each";
import { out } from "./output";

/** How a container is stopped (stop, restart): the stop signal, then SIGKILL after a grace period. */
export const STOP_ARGS = {
  time: { type: "string", alias: "t", description: "Seconds to wait before SIGKILL (default 10)", valueHint: "SECONDS" },
  signal: { type: "string", alias: "s", description: "The stop signal (default SIGTERM)", valueHint: "SIGNAL" },
} as const;

export function stopOptions(args: ParsedFlags): { time: number; signal: number } {
  return { time: parseInteger("--time", single(args.time) ?? "10", 0, 86_400), signal: parseSignal(single(args.signal) ?? "SIGTERM") };
}

export default defineMycrCommand({
  meta: { name: "stop", description: "Stop containers: the stop signal, then SIGKILL after a grace period" },
  args: {
    ...STOP_ARGS,
    container: { type: "positional", description: "Container names or ids" },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args, global) {
    const { time, signal } = stopOptions(args);
    const store = new StateStore(global.stateRoot);
    return eachContainer(args._, "stop", async (ref) => {
      await stopContainer(store, findContainer(store, ref), time, signal);
      out(ref);
    });
  },
});
