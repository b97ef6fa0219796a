// Scheduling attributes of the calling thread, which execve hands to the program:
// I/O priority, CPU scheduling policy, CPU affinity and the execution domain.
import { ptr } from "bun:ffi";
import { SYS } from "./arch";
import { check, libc, syscall } from "./libc";

const IOPRIO_WHO_PROCESS = 1;
const IOPRIO_CLASS_SHIFT = 13;

/** ioprio_set(IOPRIO_WHO_PROCESS, 0 = this thread, class << 13 | level). */
export function setIoPriority(ioClass: number, level: number): void {
  check(syscall(SYS.ioprio_set, IOPRIO_WHO_PROCESS, 0, (ioClass << IOPRIO_CLASS_SHIFT) | level), "ioprio_set", `class ${ioClass}, level ${level}`);
}

export interface SchedAttr {
  policy: number;
  flags: bigint;
  nice: number;
  priority: number;
  runtime: bigint;
  deadline: bigint;
  period: bigint;
}

/** The first version of struct sched_attr (48 bytes): every field the runtime-spec has. */
const SCHED_ATTR_SIZE_VER0 = 48;

/** sched_setattr(0 = this thread, attr, 0). */
export function setSchedulerAttributes(a: SchedAttr): void {
  const buf = new DataView(new ArrayBuffer(SCHED_ATTR_SIZE_VER0));
  buf.setUint32(0, SCHED_ATTR_SIZE_VER0, true);
  buf.setUint32(4, a.policy, true);
  buf.setBigUint64(8, a.flags, true);
  buf.setInt32(16, a.nice, true);
  buf.setUint32(20, a.priority, true);
  buf.setBigUint64(24, a.runtime, true);
  buf.setBigUint64(32, a.deadline, true);
  buf.setBigUint64(40, a.period, true);
  check(syscall(SYS.sched_setattr, 0, ptr(buf), 0), "sched_setattr", `policy ${a.policy}, priority ${a.priority}, nice ${a.nice}`);
}

/** personality(2): the execution domain (PER_LINUX, PER_LINUX32) and its flags. */
export function setPersonality(persona: number): void {
  check(libc.personality(persona), "personality", `0x${persona.toString(16)}`);
}

/** sched_setaffinity(0 = this thread) to the CPUs listed. */
export function setCpuAffinity(cpus: number[]): void {
  const words = new BigUint64Array(Math.max(16, Math.ceil((Math.max(...cpus) + 1) / 64)));
  for (const cpu of cpus) words[cpu >> 6]! |= 1n << BigInt(cpu & 63);
  check(libc.sched_setaffinity(0, words.byteLength, words), "sched_setaffinity", cpus.join(","));
}
