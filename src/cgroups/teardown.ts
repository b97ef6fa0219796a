// Ending a container's cgroup from its record alone: every process in it killed, then its
// directories removed. The drivers (v1.ts, v2.ts, the systemd scope) end theirs with these
// functions, and `delete` calls destroyCgroup without loading a driver, whose creation code
// (device programs, block I/O, systemd's bus) it does not need (docs/performance.md,
// "A lean light path for the OCI verbs").
import { existsSync } from "node:fs";
import { join } from "node:path";
import { removeDir, waitEmpty } from "./common";
import { v1AnyDir, v1Dir } from "./existing";
import { readCgroupFile, readPids, writeCgroupFile } from "./files";
import type { CgroupRecord } from "./types";

/** SIGKILL to each pid; one gone already is no error. */
function killEach(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

async function waitV1Frozen(freezer: string): Promise<void> {
  for (let i = 0; i < 400 && readCgroupFile(freezer, "freezer.state") !== "FROZEN"; i++) await Bun.sleep(5);
}

/** v1: kills everything in the cgroup (frozen meanwhile, so nothing forks) and waits until it is empty. */
export async function killAllV1(record: CgroupRecord): Promise<void> {
  const any = v1AnyDir(record);
  if (!existsSync(any) || readPids(any).length === 0) return;
  const freezer = v1Dir(record, "freezer");
  if (freezer) {
    writeCgroupFile(freezer, "freezer.state", "FROZEN");
    await waitV1Frozen(freezer);
  }
  killEach(readPids(any));
  if (freezer) writeCgroupFile(freezer, "freezer.state", "THAWED");
  await waitEmpty(any);
}

/** v2: kills everything in the cgroup (cgroup.kill, or frozen and killed one by one) and waits until it is empty. */
export async function killAllV2(dir: string): Promise<void> {
  if (!existsSync(dir) || readPids(dir).length === 0) return;
  if (existsSync(join(dir, "cgroup.kill"))) {
    try {
      writeCgroupFile(dir, "cgroup.kill", 1);
    } catch (e) {
      // Emptied and removed meanwhile: systemd removes a scope's cgroup the moment
      // its last process (a dying init) is gone.
      if (existsSync(dir)) throw e;
      return;
    }
  } else {
    writeCgroupFile(dir, "cgroup.freeze", 1);
    killEach(readPids(dir));
    writeCgroupFile(dir, "cgroup.freeze", 0);
  }
  await waitEmpty(dir);
}

/** v1: the processes killed, then each hierarchy's directory and the parents made for it. */
export async function destroyV1(record: CgroupRecord): Promise<void> {
  await killAllV1(record);
  for (const [key, dir] of Object.entries(record.dirs)) await removeDir(dir, record.parents[key], record.madeParents?.[key]);
}

/** v2: the processes killed, then the directory and the parents made for it. */
export async function destroyV2(record: CgroupRecord): Promise<void> {
  const dir = record.dirs[""]!;
  await killAllV2(dir);
  await removeDir(dir, record.parents[""], record.madeParents?.[""]);
}

/** Ends the container's cgroup as its driver's destroy() does; only a systemd scope loads its driver (the bus). */
export async function destroyCgroup(record: CgroupRecord): Promise<void> {
  if (record.none) return;
  if (record.systemd) return (await import("./index")).openCgroup(record).destroy();
  return record.mode === "v2" ? destroyV2(record) : destroyV1(record);
}
