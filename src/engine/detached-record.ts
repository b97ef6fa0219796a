// The record of a detached container (`run -d`), MYCR_ROOT/containers/<id>/monitor.json,
// as every command reads it (detached.ts writes it, under the engine lock): apart, so
// that the container list, which every command naming a container reads, does not load
// the lock's FFI.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive, type ProcessRef } from "../runtime/procfs";
import type { LogOptions } from "./logs";
import { containerDir } from "./paths";
import type { RestartPolicy } from "./restart";
import type { RunRequest } from "./run";

/** What the monitor needs to run the container again: the request without live objects. */
export type StoredRequest = Omit<RunRequest, "store" | "onKept" | "onStarted" | "id" | "detached" | "io" | "cwd">;

export type DetachedStatus = "created" | "running" | "restarting" | "exited";

export interface DetachedRecord {
  id: string;
  name?: string;
  created: string;
  /** --rootfs, or "host" for the host's root as the lower layer. */
  image: string;
  command: string[];
  request: StoredRequest;
  /** The directory `run -d` was typed in: relative paths of the request mean it (for `start`). */
  cwd?: string;
  /** runc's --root of the command that made it: where the runtime state lives. */
  stateRoot?: string;
  restart: RestartPolicy;
  autoRemove: boolean;
  log: LogOptions;
  status: DetachedStatus;
  /** The monitor process; when it is gone while the status says otherwise, the container is dead. */
  monitor?: ProcessRef;
  /** The container's PID 1 while it runs. */
  pid?: ProcessRef;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  restartCount: number;
  /** stop, rm or kill by a user: the monitor does not restart it. */
  stopRequested?: boolean;
  /** Why the last start failed, or why the record is known to be dead. */
  error?: string;
}

export const MONITOR_FILE = "monitor.json";

export function readDetached(id: string): DetachedRecord | null {
  try {
    return JSON.parse(readFileSync(join(containerDir(id), MONITOR_FILE), "utf8")) as DetachedRecord;
  } catch {
    return null;
  }
}

/**
 * The status as it really is: a record that says created/running/restarting while its
 * monitor is gone belongs to a monitor that was killed; the container died with it
 * (init has the monitor as parent and a parent-death signal), so it is "dead".
 */
export function effectiveStatus(r: DetachedRecord): DetachedStatus | "dead" {
  if (r.status === "exited") return "exited";
  if (r.monitor && !isAlive(r.monitor)) return "dead";
  if (!r.monitor && Date.now() - Date.parse(r.created) > 30_000) return "dead";
  return r.status;
}
