import { oomScoreAdjFromFlag, resourcesFromFlags } from "../engine/resource-flags";
import { runContainer } from "../engine/run";
import { formatBytes } from "../engine/units";
import { StateStore } from "../runtime/state";
import { securityFromFlags } from "../engine/security-flags";
import { defaultNamespaces } from "../spec/defaults";
import { list, single } from "./argv";
import { defineMycrCommand } from "./command";
import { OCI_CREATE_ARGS } from "./create";
import { runBundle } from "./oci-run";
import { log } from "./log";

export default defineMycrCommand({
  meta: { name: "run", description: "Run a command in a new container (foreground)" },
  args: {
    rootfs: {
      type: "string",
      description: "Directory to use as the read-only lower layer of the root (default: the host's /)",
      valueHint: "DIR",
    },
    hostname: { type: "string", description: "Container host name (default: the first 12 characters of its id)" },
    memory: { type: "string", alias: "m", description: "Memory limit (512m, 1g)", valueHint: "SIZE" },
    "memory-swap": { type: "string", description: "Memory plus swap limit; -1 for unlimited swap (default: no swap)", valueHint: "SIZE" },
    "memory-reservation": { type: "string", description: "Memory soft limit", valueHint: "SIZE" },
    cpus: { type: "string", description: "Number of CPUs (1.5 = one and a half CPUs of time)", valueHint: "N" },
    "cpu-shares": { type: "string", alias: "c", description: "Relative CPU weight (default 1024)", valueHint: "N" },
    "cpuset-cpus": { type: "string", description: "CPUs the container may use (0-1, 0,2)", valueHint: "LIST" },
    "cpuset-mems": { type: "string", description: "Memory nodes the container may use", valueHint: "LIST" },
    "pids-limit": { type: "string", description: "Maximum number of processes (-1: unlimited)", valueHint: "N" },
    "blkio-weight": { type: "string", description: "Relative block I/O weight, 10 to 1000", valueHint: "N" },
    "oom-score-adj": { type: "string", description: "OOM killer preference, -1000 to 1000", valueHint: "N" },
    "cap-add": { type: "string", description: "Add a capability (NET_ADMIN, SYS_PTRACE, ALL); repeatable", valueHint: "CAP" },
    "cap-drop": { type: "string", description: "Drop a capability (NET_RAW, ALL); repeatable", valueHint: "CAP" },
    privileged: { type: "boolean", description: "All capabilities and devices, no seccomp, no masked paths: no isolation from the host's kernel" },
    "security-opt": {
      type: "string",
      description: "no-new-privileges[:true], seccomp=unconfined|PROFILE.json, systempaths=unconfined; repeatable",
      valueHint: "OPT",
    },
    device: { type: "string", description: "Give the container a host device: HOST[:CONTAINER][:rwm]; repeatable", valueHint: "DEV" },
    sysctl: { type: "string", description: "Set a namespaced kernel parameter (net.*, kernel.shm*, ...); repeatable", valueHint: "KEY=VALUE" },
    ...OCI_CREATE_ARGS,
    detach: { type: "boolean", alias: "d", description: "With --bundle: create and start, then return" },
    command: { type: "positional", description: "Command and its arguments (with --bundle: the container id)", required: false },
  },
  parse: { stopAtFirstPositional: true },
  needsRoot: true,
  async run(args, global) {
    if (args.bundle !== undefined) return runBundle(args, global); // the OCI runtime's run
    const outcome = await runContainer({
      args: args._,
      rootfs: single(args.rootfs),
      hostname: single(args.hostname),
      resources: resourcesFromFlags({
        memory: single(args.memory),
        memorySwap: single(args["memory-swap"]),
        memoryReservation: single(args["memory-reservation"]),
        cpus: single(args.cpus),
        cpuShares: single(args["cpu-shares"]),
        cpusetCpus: single(args["cpuset-cpus"]),
        cpusetMems: single(args["cpuset-mems"]),
        pidsLimit: single(args["pids-limit"]),
        blkioWeight: single(args["blkio-weight"]),
      }),
      oomScoreAdj: oomScoreAdjFromFlag(single(args["oom-score-adj"])),
      security: securityFromFlags(
        {
          capAdd: list(args["cap-add"]),
          capDrop: list(args["cap-drop"]),
          privileged: args.privileged === true,
          securityOpt: list(args["security-opt"]),
          devices: list(args.device),
          sysctls: list(args.sysctl),
        },
        new Set(defaultNamespaces().map((n) => n.type)),
      ),
      store: new StateStore(global.stateRoot),
    });
    if (outcome.oomKills > 0) {
      const limit = outcome.memoryLimit === null ? "" : ` (limit ${formatBytes(outcome.memoryLimit)})`;
      const who = outcome.exitCode === 137 ? `container ${outcome.id.slice(0, 12)} was killed` : `a process in container ${outcome.id.slice(0, 12)} was killed`;
      log.error(`${who}: out of memory${limit}`);
    }
    return outcome.exitCode;
  },
});
