// One interface over cgroup v1, v2 and hybrid hosts.
import type { Resources } from "../spec/types";

export type CgroupMode = "v1" | "v2" | "hybrid";

/** Where a container's cgroup lives: enough to find it again from its state record. */
export interface CgroupRecord {
  mode: CgroupMode;
  /** Absolute directories, one per hierarchy, keyed by its controllers ("memory", "cpu,cpuacct", "" for cgroup2). */
  dirs: Record<string, string>;
  /** The shared parent directory to remove with the last container, per hierarchy (default paths only). */
  parents: Record<string, string>;
  /**
   * Directories above the container's own that mycr made for it (a cgroupsPath of
   * several levels), per hierarchy, top-down: removed with it, deepest first, while empty.
   */
  madeParents?: Record<string, string[]>;
  /**
   * Set when systemd manages the cgroup: the transient scope holding it (cgroup v2 only);
   * `user` when it is the user's manager's (a rootless container's, on the user's bus).
   */
  systemd?: { unit: string; slice: string; user?: true };
  /** Set when the container has no cgroup (rootless without a delegated one: none.ts). */
  none?: true;
}

export interface CgroupStats {
  memoryUsage: number | null;
  memoryLimit: number | null;
  /** CPU time used, nanoseconds. */
  cpuNanos: number | null;
  pids: number | null;
  pidsLimit: number | null;
  /** Bytes read from and written to block devices (docker stats' BLOCK I/O). */
  blockRead: number | null;
  blockWrite: number | null;
}

export interface Cgroup {
  readonly record: CgroupRecord;
  /** Writes the limits; throws a clear error on values the kernel refuses. */
  apply(resources: Resources): void;
  /** `update`: new limits for a live container (through systemd as well, for its scopes). */
  update(resources: Resources): Promise<void>;
  addProcess(pid: number): void;
  /** Processes (host pids) in the cgroup. */
  pids(): number[];
  stats(): CgroupStats;
  /** How many processes the kernel OOM-killed in this cgroup. */
  oomKills(): number;
  freeze(): void;
  frozen(): boolean;
  thaw(): void;
  /** Kills whatever is still inside and removes the cgroup. */
  destroy(): Promise<void>;
}

export class CgroupError extends Error {
  constructor(
    message: string,
    /** The errno name when a write failed ("ENOTSUP"). */
    readonly code?: string,
  ) {
    super(message);
  }
}
