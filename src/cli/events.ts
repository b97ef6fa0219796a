import { openCgroup } from "../cgroups";
import { ContainerError } from "../runtime/errors";
import { containerStatus, StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { out } from "./output";
import { loadRuntime } from "../engine/containers";

function parseInterval(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new ContainerError(`--interval ${text}: use a duration such as 5s or 500ms`);
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[m[2] ?? "s"] ?? 1000);
}

/** runc's events: stats as JSON lines every interval (once with --stats), and OOM events. */
export default defineMycrCommand({
  meta: { name: "events", description: "Print container stats and OOM events as JSON lines" },
  args: {
    stats: { type: "boolean", description: "Print one stats event and exit" },
    interval: { type: "string", default: "5s", description: "Time between stats events", valueHint: "DURATION" },
    id: { type: "positional", description: "Container id" },
  },
  needsRoot: true,
  rootless: { refuse: "needs cgroups, which rootless containers run without here (no cgroup delegated to you)" },
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    const id = args._[0];
    if (!id) throw new ContainerError("events needs a container id");
    const record = loadRuntime(store, id);
    if (!record.cgroup) throw new ContainerError(`container ${id} has no cgroup`);
    const cg = openCgroup(record.cgroup);
    const interval = parseInterval(single(args.interval) ?? "5s");
    let ooms = cg.oomKills();
    for (;;) {
      if (containerStatus(record) === "stopped") return 0;
      const s = cg.stats();
      out(
        JSON.stringify({
          type: "stats",
          id: record.id,
          data: {
            cpu: { usage: { total: s.cpuNanos } },
            memory: { usage: { usage: s.memoryUsage, limit: s.memoryLimit } },
            pids: { current: s.pids, limit: s.pidsLimit },
          },
        }),
      );
      if (args.stats) return 0;
      const deadline = Date.now() + interval;
      while (Date.now() < deadline) {
        const now = cg.oomKills();
        if (now > ooms) out(JSON.stringify({ type: "oom", id: record.id }));
        ooms = now;
        if (containerStatus(record) === "stopped") return 0;
        await Bun.sleep(Math.min(200, interval));
      }
    }
  },
});
