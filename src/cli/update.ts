import { readFileSync } from "node:fs";
import { resourcesFromFlags } from "../engine/resource-flags";
import { ContainerError } from "../runtime/errors";
import { updateContainer } from "../runtime/update";
import { StateStore } from "../runtime/state";
import { parseSpec } from "../spec/validate";
import type { Resources } from "../spec/types";
import { single } from "./argv";
import { defineMycrCommand } from "./command";
import { requireId } from "./create";

/** --resources FILE (or - for stdin): a linux.resources object, validated like config.json's. */
function resourcesFromFile(path: string): Resources {
  const text = readFileSync(path === "-" ? 0 : path, "utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ContainerError(`--resources ${path}: not valid JSON: ${(e as Error).message}`);
  }
  const probe = { ociVersion: "1.2.0", root: { path: "/" }, linux: { resources: json } };
  return parseSpec(JSON.stringify(probe)).linux!.resources!;
}

export default defineMycrCommand({
  meta: { name: "update", description: "Change the resource limits of a running container" },
  args: {
    resources: { type: "string", alias: "r", description: "JSON file with linux.resources (- for stdin)", valueHint: "FILE" },
    memory: { type: "string", description: "Memory limit", valueHint: "SIZE" },
    "memory-swap": { type: "string", description: "Memory plus swap limit", valueHint: "SIZE" },
    "memory-reservation": { type: "string", description: "Memory soft limit", valueHint: "SIZE" },
    cpus: { type: "string", description: "Number of CPUs", valueHint: "N" },
    "cpu-shares": { type: "string", description: "Relative CPU weight", valueHint: "N" },
    "cpuset-cpus": { type: "string", description: "CPUs allowed", valueHint: "LIST" },
    "cpuset-mems": { type: "string", description: "Memory nodes allowed", valueHint: "LIST" },
    "pids-limit": { type: "string", description: "Maximum number of processes", valueHint: "N" },
    "blkio-weight": { type: "string", description: "Block I/O weight", valueHint: "N" },
    id: { type: "positional", description: "Container id" },
  },
  needsRoot: true,
  run(args, global) {
    const id = requireId(args, "update");
    const file = single(args.resources);
    const resources = file
      ? resourcesFromFile(file)
      : resourcesFromFlags({
          memory: single(args.memory),
          memorySwap: single(args["memory-swap"]),
          memoryReservation: single(args["memory-reservation"]),
          cpus: single(args.cpus),
          cpuShares: single(args["cpu-shares"]),
          cpusetCpus: single(args["cpuset-cpus"]),
          cpusetMems: single(args["cpuset-mems"]),
          pidsLimit: single(args["pids-limit"]),
          blkioWeight: single(args["blkio-weight"]),
        });
    if (!resources) throw new ContainerError("update: give --resources FILE or at least one limit flag");
    updateContainer(new StateStore(global.stateRoot), id, resources);
    return 0;
  },
});
