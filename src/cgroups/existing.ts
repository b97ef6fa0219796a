// A container's existing cgroup, from its record alone with no driver loaded: whether it
// is frozen (paused), thawing it, which processes it holds, and adding one (exec).
// `state`, `start`, `kill --all`, `delete`, `exec` and the container list need only this;
// the drivers (v1.ts, v2.ts, the systemd scope) use the same functions.
import { readCgroupFile, readKeyed, readPids, writeCgroupFile } from "./files";
import type { CgroupRecord } from "./types";

/** v1: the directory of the record's hierarchy that has `controller`, if the host has it. */
export function v1Dir(record: CgroupRecord, controller: string): string | null {
  for (const [key, dir] of Object.entries(record.dirs)) {
    if (key.split(",").includes(controller)) return dir;
  }
  return null;
}

/** v1: a directory that lists the cgroup's processes (every hierarchy lists the same ones). */
export function v1AnyDir(record: CgroupRecord): string {
  return v1Dir(record, "memory") ?? v1Dir(record, "pids") ?? Object.values(record.dirs)[0]!;
}

export function v1Frozen(record: CgroupRecord): boolean {
  const dir = v1Dir(record, "freezer");
  return dir !== null && readCgroupFile(dir, "freezer.state") === "FROZEN";
}

/** v1: a process goes into the cgroup in every hierarchy. */
export function v1AddProcess(record: CgroupRecord, pid: number): void {
  for (const dir of Object.values(record.dirs)) writeCgroupFile(dir, "cgroup.procs", pid);
}

export function v2AddProcess(dir: string, pid: number): void {
  writeCgroupFile(dir, "cgroup.procs", pid);
}

export function v2Frozen(dir: string): boolean {
  return readKeyed(dir, "cgroup.events").get("frozen") === 1;
}

/** The record is read as cgroup v2's files: a v2 cgroup or a systemd scope (v2 only). */
function v2Dir(record: CgroupRecord): string | null {
  return record.systemd || record.mode === "v2" ? record.dirs[""]! : null;
}

/** Whether the container's cgroup is frozen, as its driver's frozen() says. */
export function cgroupFrozen(record: CgroupRecord): boolean {
  if (record.none) return false;
  const v2 = v2Dir(record);
  return v2 !== null ? v2Frozen(v2) : v1Frozen(record);
}

/** Thaws a paused container's cgroup, as its driver's thaw() does. */
export function thawCgroup(record: CgroupRecord): void {
  if (record.none) return;
  const v2 = v2Dir(record);
  if (v2 !== null) return writeCgroupFile(v2, "cgroup.freeze", 0);
  const freezer = v1Dir(record, "freezer");
  if (freezer) writeCgroupFile(freezer, "freezer.state", "THAWED");
}

/** The processes (host pids) in the container's cgroup, as its driver's pids() says. */
export function cgroupPids(record: CgroupRecord): number[] {
  if (record.none) return [];
  return readPids(v2Dir(record) ?? v1AnyDir(record));
}

/** Moves `pid` into the container's cgroup (exec's process), as its driver's addProcess() does. */
export function joinCgroup(record: CgroupRecord, pid: number): void {
  if (record.none) return;
  const v2 = v2Dir(record);
  if (v2 !== null) v2AddProcess(v2, pid);
  else v1AddProcess(record, pid);
}
