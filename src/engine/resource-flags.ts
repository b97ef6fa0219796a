// `mycr run` resource flags (docker's names, units and meanings) -> linux.resources.
import { readFileSync } from "node:fs";
import { missingController } from "../cgroups";
import { ContainerError } from "../runtime/errors";
import type { Resources } from "../spec/types";
import { parseCpuList, parseInteger, parseSize } from "./units";

export interface ResourceFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

const MIN_MEMORY = 6 * 1024 * 1024; // docker's floor: less cannot even start a shell
const CPU_PERIOD = 100_000; // microseconds, the kernel's default CFS period

function onlineList(path: string): number[] {
  try {
    return parseCpuList(path, readFileSync(path, "utf8").trim());
  } catch {
    return [];
  }
}

function checkWithin(flag: string, text: string, wanted: number[], have: number[], what: string): void {
  const outside = wanted.filter((n) => !have.includes(n));
  if (have.length > 0 && outside.length > 0) {
    throw new ContainerError(`${flag} ${text}: this host has ${what} ${have.join(",")} only`);
  }
}

/** Which flag set a resources field, for errors in the user's words. */
export const FLAG_OF_FIELD: Record<string, string> = {
  memory: "--memory",
  cpu: "--cpus/--cpu-shares",
  "cpu.cpus": "--cpuset-cpus",
  "cpu.mems": "--cpuset-mems",
  pids: "--pids-limit",
  blockIO: "--blkio-weight",
};

export function resourcesFromFlags(f: ResourceFlags): Resources | undefined {
  const r: Resources = {};
  if (f.memory !== undefined) {
    const limit = parseSize("--memory", f.memory);
    if (limit < MIN_MEMORY) throw new ContainerError(`--memory ${f.memory}: the minimum is 6m`);
    // docker: --memory-swap is memory plus swap; -1 is unlimited swap. Default: no swap beyond memory.
    let swap = limit;
    if (f.memorySwap !== undefined) {
      swap = f.memorySwap.trim() === "-1" ? -1 : parseSize("--memory-swap", f.memorySwap);
      if (swap !== -1 && swap < limit) {
        throw new ContainerError(`--memory-swap ${f.memorySwap}: must be at least --memory (it counts memory plus swap), or -1`);
      }
    }
    r.memory = { limit, swap };
  } else if (f.memorySwap !== undefined) {
    throw new ContainerError("--memory-swap needs --memory (it is the total of memory and swap)");
  }
  if (f.memoryReservation !== undefined) {
    const reservation = parseSize("--memory-reservation", f.memoryReservation);
    if (r.memory?.limit !== undefined && reservation > r.memory.limit) {
      throw new ContainerError(`--memory-reservation ${f.memoryReservation}: must not exceed --memory`);
    }
    r.memory = { ...r.memory, reservation };
  }
  if (f.cpus !== undefined) {
    const n = Number(f.cpus);
    const hostCpus = onlineList("/sys/devices/system/cpu/online").length || navigator.hardwareConcurrency || 1;
    if (!/^\d*\.?\d+$/.test(f.cpus.trim()) || !(n > 0)) throw new ContainerError(`--cpus ${f.cpus}: must be a number greater than 0, such as 1.5`);
    if (n > hostCpus) throw new ContainerError(`--cpus ${f.cpus}: this host has ${hostCpus} CPUs`);
    r.cpu = { quota: Math.round(n * CPU_PERIOD), period: CPU_PERIOD };
  }
  if (f.cpuShares !== undefined) {
    r.cpu = { ...r.cpu, shares: parseInteger("--cpu-shares", f.cpuShares, 2, 262144) };
  }
  if (f.cpusetCpus !== undefined) {
    checkWithin("--cpuset-cpus", f.cpusetCpus, parseCpuList("--cpuset-cpus", f.cpusetCpus), onlineList("/sys/devices/system/cpu/online"), "CPUs");
    r.cpu = { ...r.cpu, cpus: f.cpusetCpus };
  }
  if (f.cpusetMems !== undefined) {
    checkWithin("--cpuset-mems", f.cpusetMems, parseCpuList("--cpuset-mems", f.cpusetMems), onlineList("/sys/devices/system/node/online"), "memory nodes");
    r.cpu = { ...r.cpu, mems: f.cpusetMems };
  }
  if (f.pidsLimit !== undefined) {
    // docker: 0 and -1 mean unlimited
    r.pids = { limit: parseInteger("--pids-limit", f.pidsLimit, -1, 2 ** 31) };
  }
  if (f.blkioWeight !== undefined) {
    r.blockIO = { weight: parseInteger("--blkio-weight", f.blkioWeight, 10, 1000) };
  }
  if (Object.keys(r).length === 0) return undefined;
  const missing = missingController(r);
  if (missing) {
    throw new ContainerError(`${FLAG_OF_FIELD[missing.field] ?? missing.field} needs the ${missing.controller} controller, not enabled on this host`);
  }
  return r;
}

const CAP_SYS_RESOURCE = 24;

function hasCapability(cap: number): boolean {
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return line ? (BigInt(`0x${line[1]}`) >> BigInt(cap)) & 1n ? true : false : false;
}

export function oomScoreAdjFromFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = parseInteger("--oom-score-adj", text, -1000, 1000);
  // The container starts from our score; going below it is a privilege of its own.
  const current = Number(readFileSync("/proc/self/oom_score_adj", "utf8"));
  if (value < current && !hasCapability(CAP_SYS_RESOURCE)) {
    throw new ContainerError(`--oom-score-adj ${text}: lowering the OOM score below ${current} needs CAP_SYS_RESOURCE, which mycr does not have here`);
  }
  return value;
}
