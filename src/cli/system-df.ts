import { diskUsage, type UsageRow } from "../engine/disk-usage";
import { formatBytes } from "../engine/units";
import { StateStore } from "../runtime/state";
import { defineMycrCommand } from "./command";
import { formatOption, formatRows } from "./format";
import { out } from "./output";

function fields(r: UsageRow): Record<string, unknown> {
  const percent = r.size > 0 ? ` (${Math.round((r.reclaimable / r.size) * 100)}%)` : "";
  return { Type: r.type, TotalCount: r.total, Active: r.active, Size: formatBytes(r.size), Reclaimable: `${formatBytes(r.reclaimable)}${percent}` };
}

export default defineMycrCommand({
  meta: { name: "system df", description: "Show the disk space images and containers use (docker system df)" },
  args: { format: formatOption("TYPE, TOTAL, ACTIVE, SIZE, RECLAIMABLE") },
  needsRoot: true,
  run(args, global) {
    const rows = diskUsage(new StateStore(global.stateRoot)).map(fields);
    out(formatRows(args.format, rows, { headers: { Type: "TYPE", TotalCount: "TOTAL", Active: "ACTIVE", Size: "SIZE", Reclaimable: "RECLAIMABLE" } }));
    return 0;
  },
});
