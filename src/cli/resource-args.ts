// The resource-limit flags `run` and `update` share: docker's names and units.
import type { ArgsDef } from "citty";
import { resourcesFromFlags } from "../engine/resource-flags";
import type { Resources } from "../spec/types";
import { single, type ParsedFlags } from "./argv";

export const RESOURCE_ARGS = {
  memory: { type: "string", alias: "m", description: "Memory limit (512m, 1g)", valueHint: "SIZE" },
  "memory-swap": { type: "string", description: "Memory plus swap limit; -1 for unlimited swap (default: no swap)", valueHint: "SIZE" },
  "memory-reservation": { type: "string", description: "Memory soft limit", valueHint: "SIZE" },
  cpus: { type: "string", description: "Number of CPUs (1.5 = one and a half CPUs of time)", valueHint: "N" },
  "cpu-shares": { type: "string", alias: "c", description: "Relative CPU weight (default 1024)", valueHint: "N" },
  "cpuset-cpus": { type: "string", description: "CPUs the container may use (0-1, 0,2)", valueHint: "LIST" },
  "cpuset-mems": { type: "string", description: "Memory nodes the container may use", valueHint: "LIST" },
  "pids-limit": { type: "string", description: "Maximum number of processes (-1: unlimited)", valueHint: "N" },
  "blkio-weight": { type: "string", description: "Relative block I/O weight, 10 to 1000", valueHint: "N" },
} satisfies ArgsDef;

export function resourcesFromArgs(args: ParsedFlags): Resources | undefined {
  return resourcesFromFlags({
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
}
