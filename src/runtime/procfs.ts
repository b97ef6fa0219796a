// Reading facts about processes from /proc.
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or null if gone. */
export function processStartTime(pid: number): number | null {
  return startTimeIn(`/proc/${pid}`);
}

/** processStartTime of the process whose /proc directory is `dir` (e.g. /proc/self/fd/N of a held one). */
export function startTimeIn(dir: string): number | null {
  let stat: string;
  try {
    stat = readFileSync(`${dir}/stat`, "utf8");
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  if (state === "Z" || state === "X") return null; // a zombie no longer runs anything
  return Number(fields[19]);
}

/** A process identity that survives pid reuse. */
export interface ProcessRef {
  pid: number;
  startTime: number;
}

export function processRef(pid: number): ProcessRef | null {
  const startTime = processStartTime(pid);
  return startTime === null ? null : { pid, startTime };
}

export function isAlive(ref: ProcessRef | undefined | null): boolean {
  return !!ref && processStartTime(ref.pid) === ref.startTime;
}

/** The processes in the PID namespace of `pid` (its PID 1): a container's, where no cgroup lists them (rootless). */
export function pidNamespaceMembers(pid: number): number[] {
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) === ns) members.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

/**
 * The processes whose name (comm) matches `name` and whose arguments include `argument`
 * exactly: a helper found by what it was told when nothing recorded its pid.
 */
export function processesWithArgument(name: RegExp, argument: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!name.test(readFileSync(`/proc/${entry}/comm`, "utf8").trim())) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(argument)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
