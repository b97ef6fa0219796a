import { cgroupPids } from "../cgroups/existing";
import { ContainerError } from "../runtime/errors";
import { containerStatus, StateStore } from "../runtime/state";
import { pidNamespaceMembers } from "../runtime/procfs";
import { list, single, type ParsedFlags } from "./argv";
import { formatOption, formatRows } from "./format";
import { matchesFilters, parseFilters, wantsStopped } from "./ps-filter";
import { findContainer, listContainers } from "../engine/containers";
import { CONTAINER_HEADERS, containerFields, containerJson, containerTable } from "./container-table";
import { defineMycrCommand } from "./command";
import { out } from "./output";
import { callersOciContainer } from "./oci-caller";

export default defineMycrCommand({
  meta: { name: "ps", description: "List containers (docker's ps), or with an ID the processes of that container (runc's ps)" },
  args: {
    format: { ...formatOption("CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES"), alias: undefined, description: "table, json (one object a line; with ID: the host pids), or a Go template: '{{.ID}} {{.Names}}', 'table {{.Names}}\\t{{.Status}}'" },
    filter: { type: "string", alias: "f", description: "Without ID: only containers matching id=, name=, status=, label=KEY[=VALUE], ancestor=IMAGE, exited=CODE; repeatable", valueHint: "KEY=VALUE" },
    all: { type: "boolean", alias: "a", description: "Without ID: all containers, not only running ones" },
    quiet: { type: "boolean", alias: "q", description: "Without ID: only the ids" },
    "no-trunc": { type: "boolean", description: "Without ID: full ids and commands" },
    id: { type: "positional", description: "Container id, then options for ps(1) (default -ef)" },
  },
  parse: { stopAtFirstPositional: true },
  needsRoot: true,
  // with a container (runc's ps): its processes are only its user namespace's root's to look at
  rootless: { caller: callersOciContainer, otherwise: { join: (args) => args._[0] } },
  run(args, global) {
    const [idArg, ...psArgs] = args._;
    const store = new StateStore(global.stateRoot);
    if (!idArg) return listAll(store, args);
    return showProcesses(store, idArg, psArgs, single(args.format) === "json");
  },
});

function listAll(store: StateStore, args: ParsedFlags): number {
  const filters = parseFilters(list(args.filter));
  const all = args.all === true || wantsStopped(filters);
  const views = listContainers(store).filter((v) => (all || v.state === "running" || v.state === "paused" || v.state === "restarting") && matchesFilters(v, filters));
  const trunc = args["no-trunc"] !== true;
  if (args.quiet) {
    for (const v of views) out(trunc ? v.id.slice(0, 12) : v.id);
    return 0;
  }
  const text = formatRows(args.format, views.map((v) => containerFields(v, trunc)), {
    headers: CONTAINER_HEADERS,
    table: () => containerTable(views, trunc),
    json: (i) => JSON.parse(containerJson(views[i]!)),
  });
  if (text !== "") out(text);
  return 0;
}

/** runc's ps (and docker's top): the host's ps, filtered to the container's processes. */
export function showProcesses(store: StateStore, ref: string, psArgs: string[], json: boolean): number {
  const record = findContainer(store, ref).runtime;
  if (!record) throw new ContainerError(`container ${ref} is not running`);
  if (containerStatus(record) === "stopped" || !record.cgroup) throw new ContainerError(`container ${record.id} is not running`);
  // a rootless container has no cgroup: its processes are those of its PID namespace
  const pids = record.cgroup.none ? pidNamespaceMembers(record.init!.pid) : cgroupPids(record.cgroup);
  if (json) {
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
}
