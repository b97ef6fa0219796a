// process.ioPriority, process.scheduler, process.execCPUAffinity.final,
// linux.personality and the LSM labels: attributes of the thread that calls execve,
// which the program inherits. Checked during setup (so a bad value fails the start),
// applied right before the security step, while init still has the capabilities
// real-time scheduling and I/O classes need and before seccomp could forbid the calls.
import { SysError, setCpuAffinity, setIoPriority, setPersonality, setSchedulerAttributes, type SchedAttr } from "../sys";
import type { Spec } from "../spec/types";
import { setAppArmorOnExec, setSelinuxOnExec } from "./lsm";

const IO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
const POLICY: Record<string, number> = { SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_IDLE: 5, SCHED_DEADLINE: 6 };
const SCHED_FLAG: Record<string, bigint> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01n,
  SCHED_FLAG_RECLAIM: 0x02n,
  SCHED_FLAG_DL_OVERRUN: 0x04n,
  SCHED_FLAG_KEEP_POLICY: 0x08n,
  SCHED_FLAG_KEEP_PARAMS: 0x10n,
};
const PERSONA: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

export interface ProcessAttributes {
  ioPriority?: { ioClass: number; level: number };
  scheduler?: SchedAttr;
  affinity?: number[];
  personality?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
}

/** "0-3,5" -> [0, 1, 2, 3, 5] (the format was checked by spec/validate.ts). */
export function parseCpuList(list: string, field: string): number[] {
  const cpus: number[] = [];
  for (const part of list.split(",")) {
    const [lo, hi = lo] = part.split("-").map(Number) as [number, number?];
    if (hi! < lo || hi! >= 8192) throw new Error(`${field}: "${part}" is not a range of CPUs`);
    for (let c = lo; c <= hi!; c++) cpus.push(c);
  }
  return cpus;
}

export function prepareProcessAttributes(spec: Spec): ProcessAttributes {
  const proc = spec.process!;
  const out: ProcessAttributes = {};
  if (proc.ioPriority) out.ioPriority = { ioClass: IO_CLASS[proc.ioPriority.class]!, level: proc.ioPriority.priority ?? 0 };
  const s = proc.scheduler as { policy: string; nice?: number; priority?: number; flags?: string[]; runtime?: number; deadline?: number; period?: number } | undefined;
  if (s) {
    const policy = POLICY[s.policy];
    if (policy === undefined) throw new Error(`process.scheduler.policy: ${s.policy} is not supported by mycr`);
    let flags = 0n;
    for (const f of s.flags ?? []) {
      const bit = SCHED_FLAG[f];
      if (bit === undefined) throw new Error(`process.scheduler.flags: ${f} is not supported by mycr`);
      flags |= bit;
    }
    out.scheduler = {
      policy,
      flags,
      nice: s.nice ?? 0,
      priority: s.priority ?? 0,
      runtime: BigInt(s.runtime ?? 0),
      deadline: BigInt(s.deadline ?? 0),
      period: BigInt(s.period ?? 0),
    };
  }
  const final = proc.execCPUAffinity?.final;
  if (final !== undefined) out.affinity = parseCpuList(final, "process.execCPUAffinity.final");
  const persona = spec.linux?.personality;
  if (persona) out.personality = PERSONA[persona.domain];
  if (proc.apparmorProfile) out.apparmorProfile = proc.apparmorProfile;
  if (proc.selinuxLabel) out.selinuxLabel = proc.selinuxLabel;
  return out;
}

/** Runs `fn`, turning a failed system call into an error naming the config field. */
function as(field: string, fn: () => void, advice: Record<number, string> = {}): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    throw new Error(`${field}: ${e.message}${advice[e.errno] ? `: ${advice[e.errno]}` : ""}`);
  }
}

/**
 * Scheduling, affinity and personality: applied at the end of setup, so that a value
 * the kernel refuses fails the start before init reports ready; they stay with this
 * thread, which is the one that will call execve.
 */
export function applyProcessAttributes(a: ProcessAttributes): void {
  if (a.ioPriority) as("process.ioPriority", () => setIoPriority(a.ioPriority!.ioClass, a.ioPriority!.level));
  if (a.scheduler) {
    as("process.scheduler", () => setSchedulerAttributes(a.scheduler!), {
      1: "this host does not allow it (real-time scheduling may need a cgroup real-time budget, cpu.rt_runtime_us)",
      22: "the kernel refused these values (priority must be 1-99 for SCHED_FIFO and SCHED_RR, 0 otherwise; SCHED_DEADLINE needs runtime <= deadline <= period)",
      16: "the host has no bandwidth left for SCHED_DEADLINE",
    });
  }
  if (a.affinity) as("process.execCPUAffinity.final", () => setCpuAffinity(a.affinity!), { 22: "none of these CPUs is in the container's cpuset" });
  if (a.personality !== undefined) as("linux.personality", () => setPersonality(a.personality!));
}

/**
 * The LSM labels take effect at the next execve of this thread: written last, right
 * before it, so that no hook init runs before then is started with them.
 */
export function applyExecLabels(a: ProcessAttributes): void {
  if (a.apparmorProfile) setAppArmorOnExec(a.apparmorProfile);
  if (a.selinuxLabel) setSelinuxOnExec(a.selinuxLabel);
}
