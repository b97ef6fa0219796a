// `mycr container prune`; `container ls|rm|stop|…` are docker's other names for top-level
// commands and are resolved before this file is loaded (index.ts).
import { listContainers } from "../engine/containers";
import { removeContainer } from "../engine/remove";
import { StateStore } from "../runtime/state";
import { UsageError } from "./argv";
import { defineMycrCommand } from "./command";
import { log } from "./log";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "container", description: "Manage containers: prune removes every stopped container (and ls, rm, stop, logs, inspect, wait, top, stats, run, exec as docker's other names)" },
  args: {
    force: { type: "boolean", alias: "f", description: "Do not ask (mycr never asks; accepted for docker's sake)" },
    command: { type: "positional", description: "prune" },
  },
  needsRoot: true,
  rootless: "enter",
  async run(args, global) {
    const [sub, ...rest] = args._;
    if (sub !== "prune" || rest.length > 0) throw new UsageError(`container: unknown subcommand "${sub ?? ""}" (prune, ls, rm, stop, logs, inspect, wait, top, stats, run, exec)`);
    const store = new StateStore(global.stateRoot);
    let failed = false;
    out("Deleted Containers:");
    for (const v of listContainers(store)) {
      if (v.state !== "exited" && v.state !== "dead") continue;
      // foreground runs are their owner's to remove
      if (!v.detached && (v.engine || v.runtime?.owner)) continue;
      try {
        await removeContainer(store, v, false);
        out(v.id);
      } catch (e) {
        failed = true;
        log.error(e instanceof Error ? e.message : String(e));
      }
    }
    return failed ? 125 : 0;
  },
});
