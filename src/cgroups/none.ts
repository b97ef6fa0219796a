// No cgroup at all: a rootless container where no cgroup is delegated to the user (see
// docs/rootless.md). The container runs in the cgroup of the mycr that started it;
// there is nothing to limit, count or freeze, and saying otherwise would be a lie, so
// what needs a cgroup is refused before a container gets here (engine/rootless).
import type { Resources } from "../spec/types";
import { CgroupError, type Cgroup, type CgroupRecord, type CgroupStats } from "./types";

const WHY = "rootless containers here run without a cgroup (none is delegated to you)";

/** The first limit in `resources` that needs a cgroup, as one line; device rules are no limit here (below). */
export function noCgroupRefusal(resources: Resources | undefined): string | null {
  const limited = Object.entries(resources ?? {}).find(([key, value]) => key !== "devices" && value !== undefined && value !== null);
  return limited ? `linux.resources.${limited[0]}: ${WHY}` : null;
}

export class NoCgroup implements Cgroup {
  readonly record: CgroupRecord;

  constructor(mode: CgroupRecord["mode"]) {
    this.record = { mode, dirs: {}, parents: {}, none: true };
  }

  /**
   * Device rules are not limits here: in a user namespace no device node can be made, and
   * a node bound in from the host keeps the host's permissions. Anything else is refused.
   */
  apply(resources: Resources): void {
    const refused = noCgroupRefusal(resources);
    if (refused) throw new CgroupError(refused);
  }

  update(_resources: Resources): Promise<void> {
    return Promise.reject(new CgroupError(`update: ${WHY}`));
  }

  addProcess(_pid: number): void {}

  pids(): number[] {
    return [];
  }

  stats(): CgroupStats {
    return { memoryUsage: null, memoryLimit: null, cpuNanos: null, pids: null, pidsLimit: null, blockRead: null, blockWrite: null };
  }

  oomKills(): number {
    return 0;
  }

  freeze(): void {
    throw new CgroupError(`pause: ${WHY}`);
  }

  frozen(): boolean {
    return false;
  }

  thaw(): void {
    throw new CgroupError(`unpause: ${WHY}`);
  }

  destroy(): Promise<void> {
    return Promise.resolve();
  }
}
