// The limits systemd manages itself, as unit properties: given to systemd too (not only
// written to the files) so that a `systemctl daemon-reload` or a change to the slice does
// not put systemd's own idea of the scope's limits back over ours.
import type { Resources } from "../../spec/types";
import { blkioToIoWeight, sharesToWeight } from "../convert";
import { CgroupError } from "../types";
import { Variant } from "./dbus-marshal";
import { deviceProperties } from "./devices";

/** systemd's "infinity" for a uint64 property. */
const INFINITY = 0xffff_ffff_ffff_ffffn;

export type Property = [string, Variant];

const u64 = (name: string, v: number | bigint): Property => [name, new Variant("t", BigInt(v))];
const limit = (n: number): bigint => (n < 0 ? INFINITY : BigInt(n));

/** "0-2,5" -> systemd's CPU/NUMA bitmask (byte k holds bits 8k..8k+7). */
export function listToMask(list: string, field: string): number[] {
  const bytes: number[] = [];
  for (const part of list.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new CgroupError(`${field} "${list}": not a list like 0-2,5`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > 8191) throw new CgroupError(`${field} "${list}": bad range ${part}`);
    for (let c = lo; c <= hi; c++) {
      while (bytes.length <= c >> 3) bytes.push(0);
      bytes[c >> 3]! |= 1 << (c & 7);
    }
  }
  return bytes;
}

/**
 * CPU quota per second as systemd takes it: quota/period of a second, rounded up to
 * whole 10 ms as systemd itself rounds CPUQuota= (the exact cpu.max is written after).
 */
export function quotaPerSecUSec(quota: number, period: number): bigint {
  if (quota <= 0) return INFINITY;
  const perSec = Math.ceil((quota * 1_000_000) / period);
  return BigInt(Math.ceil(perSec / 10_000) * 10_000);
}

/** The properties for `resources` (for StartTransientUnit and SetUnitProperties). */
export function resourceProperties(r: Resources | undefined): Property[] {
  const props: Property[] = [];
  if (!r) return props;
  const mem = r.memory;
  if (mem?.limit !== undefined) props.push(u64("MemoryMax", limit(mem.limit)));
  if (mem?.reservation !== undefined) props.push(u64("MemoryLow", limit(mem.reservation)));
  if (mem?.swap !== undefined) {
    // OCI's swap is memory and swap together (v1's memsw); systemd's is swap alone.
    const swap = mem.swap < 0 ? INFINITY : BigInt(Math.max(0, mem.swap - (mem.limit ?? 0)));
    props.push(u64("MemorySwapMax", swap));
  }
  const cpu = r.cpu;
  if (cpu?.shares !== undefined && cpu.shares > 0) props.push(u64("CPUWeight", sharesToWeight(cpu.shares)));
  if (cpu?.quota !== undefined || cpu?.period !== undefined) {
    const period = cpu.period ?? 100_000;
    props.push(u64("CPUQuotaPerSecUSec", quotaPerSecUSec(cpu.quota ?? -1, period)));
    props.push(u64("CPUQuotaPeriodUSec", period));
  }
  if (cpu?.cpus) props.push(["AllowedCPUs", new Variant("ay", listToMask(cpu.cpus, "linux.resources.cpu.cpus"))]);
  if (cpu?.mems) props.push(["AllowedMemoryNodes", new Variant("ay", listToMask(cpu.mems, "linux.resources.cpu.mems"))]);
  if (r.pids) props.push(u64("TasksMax", r.pids.limit > 0 ? BigInt(r.pids.limit) : INFINITY));
  if (r.blockIO?.weight !== undefined && r.blockIO.weight > 0) props.push(u64("IOWeight", blkioToIoWeight(r.blockIO.weight)));
  props.push(...(deviceProperties(r.devices) ?? []));
  return props;
}
