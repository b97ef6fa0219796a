import { collectGarbage } from "../engine/gc";
import { StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { log } from "./log";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "gc", description: "Remove what crashed mycr processes left behind (mounts, files, state)" },
  args: {},
  needsRoot: true,
  rootless: "enter",
  async run(_args, global) {
    const report = await collectGarbage(new StateStore(global.stateRoot));
    for (const id of report.removed) out(id);
    log.debug(`removed ${report.removed.length} container(s)`);
    return 0;
  },
});
