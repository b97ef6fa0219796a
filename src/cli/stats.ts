import { collectStats, type ContainerStats } from "../engine/stats";
import { formatBytes } from "../engine/units";
import { StateStore } from "../runtime/state";
import { single } from "./argv";
import { findContainer, listContainers } from "../engine/containers";
import { defineMycrCommand } from "./command";
import { out } from "./output";

function table(rows: ContainerStats[]): string {
  const header = ["CONTAINER ID", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS"];
  const lines = rows.map((s) => [
    s.id.slice(0, 12),
    s.cpuPercent === null ? "--" : `${s.cpuPercent.toFixed(2)}%`,
    `${s.memoryUsage === null ? "--" : formatBytes(s.memoryUsage)} / ${s.memoryLimit === null ? "unlimited" : formatBytes(s.memoryLimit)}`,
    s.memoryUsage !== null && s.memoryLimit ? `${((s.memoryUsage / s.memoryLimit) * 100).toFixed(2)}%` : "--",
    s.pids === null ? "--" : String(s.pids),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [header, ...lines].map((cols) => cols.map((c, i) => c.padEnd(widths[i]!)).join("   ").trimEnd()).join("\n");
}

function runningIds(store: StateStore): string[] {
  return listContainers(store)
    .filter((v) => v.runtime && (v.state === "running" || v.state === "paused"))
    .map((v) => v.id);
}

export default defineMycrCommand({
  meta: { name: "stats", description: "Show CPU, memory and process counts of running containers" },
  args: {
    "no-stream": { type: "boolean", description: "Print one sample and exit" },
    format: { type: "enum", options: ["table", "json"], default: "table", description: "Output format" },
    container: { type: "positional", description: "Container ids (or unique prefixes)" },
  },
  needsRoot: true,
  rootless: { refuse: "needs cgroups, which rootless containers run without here (no cgroup delegated to you)" },
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    // Without ids: every running container, as docker.
    const ids = args._.length > 0 ? args._.map((x) => findContainer(store, x).id) : runningIds(store);
    const json = single(args.format) === "json";
    for (;;) {
      const rows = await collectStats(store, ids, 500);
      out(json ? JSON.stringify(rows) : table(rows));
      if (args["no-stream"]) return 0;
    }
  },
});
