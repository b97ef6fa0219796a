import { openCgroup } from "../cgroups";
import { ContainerError } from "../runtime/errors";
import { containerStatus, StateStore } from "../runtime/state";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { out } from "./output";

export default defineMycrCommand({
  meta: { name: "ps", description: "List the processes running in a container (runc's ps: ID [ps options])" },
  args: {
    format: { type: "enum", alias: "f", options: ["table", "json"], default: "table", description: "table: ps output; json: the host pids" },
    id: { type: "positional", description: "Container id, then options for ps(1) (default -ef)" },
  },
  parse: { stopAtFirstPositional: true },
  needsRoot: true,
  run(args, global) {
    const [idArg, ...psArgs] = args._;
    if (!idArg) throw new ContainerError("ps needs a container id");
    const store = new StateStore(global.stateRoot);
    const record = store.load(store.resolve(idArg));
    if (containerStatus(record) === "stopped" || !record.cgroup) throw new ContainerError(`container ${record.id} is not running`);
    const pids = openCgroup(record.cgroup).pids();
    if (single(args.format) === "json") {
      out(JSON.stringify(pids));
      return 0;
    }
    // As runc does: the host's ps, filtered to the container's processes.
    const ps = Bun.spawnSync(["ps", ...(psArgs.length > 0 ? psArgs : ["-ef"])]);
    if (ps.exitCode !== 0) throw new ContainerError(`ps failed: ${ps.stderr.toString().trim()}`);
    const [header = "", ...lines] = ps.stdout.toString().trimEnd().split("\n");
    const pidColumn = header.trim().split(/\s+/).indexOf("PID");
    if (pidColumn < 0) throw new ContainerError("ps output has no PID column: pass options that print one");
    const wanted = new Set(pids);
    out([header, ...lines.filter((l) => wanted.has(Number(l.trim().split(/\s+/)[pidColumn])))].join("\n"));
    return 0;
  },
});
