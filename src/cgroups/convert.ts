import type { DeviceCgroupRule } from "../spec/types";
import { CgroupError } from "./types";

// Conversions between the runtime-spec's (cgroup v1-shaped) values and cgroup v2's,
// the same ones runc and crun use, so a config means the same under every runtime.

/** cpu.shares as set: 0 means "not set" to runc, and docker sends 0 when no --cpu-shares was given. */
export function sharesSet(shares: number | undefined): number | undefined {
  return shares === 0 ? undefined : shares;
}

/** cpu.shares [2, 262144] -> cpu.weight [1, 10000]. The default 1024 maps to 39 (runc's formula). */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** blkio.weight [10, 1000] -> io.weight [1, 10000]. */
export function blkioToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return Math.floor(1 + ((weight - 10) * 9999) / 990);
}

/** Memory-and-swap total (v1 memsw) -> swap alone (v2 memory.swap.max). */
export function swapOnly(memsw: number, memory: number): string {
  if (memsw === -1) return "max";
  return String(Math.max(0, memsw - memory));
}

export function limitValue(n: number | undefined): string | null {
  if (n === undefined) return null;
  return n < 0 ? "max" : String(n);
}

/** A device rule as the v1 devices controller reads it: "c 1:3 rwm", "a *:* rwm". */
export function deviceRuleLine(rule: DeviceCgroupRule): string {
  const num = (n: number | null | undefined) => (n === undefined || n === null || n < 0 ? "*" : String(n));
  const type = rule.type ?? "a";
  const access = rule.access || "rwm";
  if (type === "a") return `a *:* ${access}`;
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${access}`;
}

/** An rdma.max line: "mlx4_0 hca_handle=2 hca_object=2000"; a limit not given is left as it is. */
export function rdmaLine(device: string, limits: { hcaHandles?: number; hcaObjects?: number }): string {
  const parts = [device];
  if (limits.hcaHandles !== undefined) parts.push(`hca_handle=${limits.hcaHandles}`);
  if (limits.hcaObjects !== undefined) parts.push(`hca_object=${limits.hcaObjects}`);
  return parts.join(" ");
}

/** memory.checkBeforeUpdate: a new limit must not be below what the cgroup already uses. */
export function checkAboveUsage(limit: number, usage: number | null): void {
  if (limit >= 0 && usage !== null && usage > limit) {
    throw new CgroupError(`linux.resources.memory.limit: ${limit} is below the container's current usage (${usage} bytes) and checkBeforeUpdate is set`);
  }
}
