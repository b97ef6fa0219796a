import { collectStats, type ContainerStats } from "../engine/stats";
import { formatBytes, formatDecimalBytes } from "../engine/units";
import { StateStore } from "../runtime/state";
import { findContainer, listContainers, type ContainerView } from "../engine/containers";
import { defineMycrCommand } from "./command";
import { formatOption, formatRows } from "./format";
import { out } from "./output";

const pair = (a: number | null, b: number | null) => (a === null || b === null ? "--" : `${formatDecimalBytes(a)} / ${formatDecimalBytes(b)}`);

const HEADERS: Record<string, string> = {
  ID: "CONTAINER ID",
  Name: "NAME",
  CPUPerc: "CPU %",
  MemUsage: "MEM USAGE / LIMIT",
  MemPerc: "MEM %",
  NetIO: "NET I/O",
  BlockIO: "BLOCK I/O",
  PIDs: "PIDS",
};

/** docker stats' fields ({{.Name}}, {{.CPUPerc}}, ...), as text. */
function fields(s: ContainerStats, view: ContainerView | undefined): Record<string, string> {
  return {
    ID: s.id.slice(0, 12),
    Name: view?.name ?? "--",
    CPUPerc: s.cpuPercent === null ? "--" : `${s.cpuPercent.toFixed(2)}%`,
    MemUsage: `${s.memoryUsage === null ? "--" : formatBytes(s.memoryUsage)} / ${s.memoryLimit === null ? "unlimited" : formatBytes(s.memoryLimit)}`,
    MemPerc: s.memoryUsage !== null && s.memoryLimit ? `${((s.memoryUsage / s.memoryLimit) * 100).toFixed(2)}%` : "--",
    NetIO: pair(s.netRx, s.netTx),
    BlockIO: pair(s.blockRead, s.blockWrite),
    PIDs: s.pids === null ? "--" : String(s.pids),
  };
}

function runningIds(store: StateStore): string[] {
  return listContainers(store)
    .filter((v) => v.runtime && (v.state === "running" || v.state === "paused"))
    .map((v) => v.id);
}

export default defineMycrCommand({
  meta: { name: "stats", description: "Show CPU, memory, network, block I/O and process counts of running containers" },
  args: {
    "no-stream": { type: "boolean", description: "Print one sample and exit" },
    "no-trunc": { type: "boolean", description: "Full container ids" },
    format: { ...formatOption("CONTAINER ID, NAME, CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O, PIDS"), alias: undefined },
    container: { type: "positional", description: "Container names, ids or unique prefixes (default: every running one)" },
  },
  needsRoot: true,
  // where a rootless container has no cgroup (none delegated), the cgroup refuses in one line
  rootless: "enter",
  async run(args, global) {
    const store = new StateStore(global.stateRoot);
    const ids = args._.length > 0 ? args._.map((x) => findContainer(store, x).id) : runningIds(store);
    const views = new Map(listContainers(store).map((v) => [v.id, v]));
    for (;;) {
      const rows = await collectStats(store, ids, 500);
      const shown = rows.map((s) => ({ ...fields(s, views.get(s.id)), ...(args["no-trunc"] === true ? { ID: s.id } : {}) }));
      // json: docker's text fields, and the numbers they come from (bytes, percent)
      out(formatRows(args.format, shown, { headers: HEADERS, json: (i) => ({ ...shown[i], ...rows[i] }) }));
      if (args["no-stream"]) return 0;
    }
  },
});
