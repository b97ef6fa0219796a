// Resource usage of running containers, read from their cgroups.
import { openCgroup, type CgroupStats } from "../cgroups";
import { ContainerError } from "../runtime/errors";
import { containerStatus, type StateStore } from "../runtime/state";

export interface ContainerStats extends CgroupStats {
  id: string;
  /** CPU time over the sampling interval, in percent of one CPU. */
  cpuPercent: number | null;
}

interface Sample {
  id: string;
  at: number;
  stats: CgroupStats;
}

function sample(store: StateStore, id: string): Sample {
  const rec = store.load(id);
  if (!rec.cgroup || containerStatus(rec) === "stopped") throw new ContainerError(`container ${id.slice(0, 12)} is not running`);
  return { id, at: performance.now(), stats: openCgroup(rec.cgroup).stats() };
}

/** Samples every container twice, `intervalMs` apart, to compute CPU use. */
export async function collectStats(store: StateStore, ids: string[], intervalMs: number): Promise<ContainerStats[]> {
  const first = ids.map((id) => sample(store, id));
  await Bun.sleep(intervalMs);
  return first.map((a) => {
    let b: Sample;
    try {
      b = sample(store, a.id);
    } catch {
      b = a; // exited meanwhile: report what we saw
    }
    const cpu =
      a.stats.cpuNanos !== null && b.stats.cpuNanos !== null && b.at > a.at
        ? ((b.stats.cpuNanos - a.stats.cpuNanos) / 1e6 / (b.at - a.at)) * 100
        : null;
    return { id: a.id, cpuPercent: cpu, ...b.stats };
  });
}
