// Resource usage of running containers, read from their cgroups.
import { readFileSync } from "node:fs";
import { openCgroup, type CgroupStats } from "../cgroups";
import { ContainerError } from "../runtime/errors";
import { containerStatus, type StateStore } from "../runtime/state";

export interface ContainerStats extends CgroupStats {
  id: string;
  /** CPU time over the sampling interval, in percent of one CPU. */
  cpuPercent: number | null;
  /** Bytes received and sent on its network interfaces but lo; null when it shares the host's network. */
  netRx: number | null;
  netTx: number | null;
}

/** Totals of /proc/PID/net/dev (the process's network namespace), loopback left out. */
function netBytes(pid: number): { netRx: number | null; netTx: number | null } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/dev`, "utf8");
  } catch {
    return { netRx: null, netTx: null };
  }
  let netRx = 0;
  let netTx = 0;
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (rest === undefined || name!.trim() === "lo") continue;
    const fields = rest.trim().split(/\s+/).map(Number);
    netRx += fields[0] ?? 0;
    netTx += fields[8] ?? 0;
  }
  return { netRx, netTx };
}

interface Sample {
  id: string;
  at: number;
  stats: CgroupStats;
  net: { netRx: number | null; netTx: number | null };
}

function sample(store: StateStore, id: string): Sample {
  const rec = store.load(id);
  if (!rec.cgroup || containerStatus(rec) === "stopped") throw new ContainerError(`container ${id.slice(0, 12)} is not running`);
  if (rec.cgroup.none) throw new ContainerError(`stats: container ${id.slice(0, 12)} has no cgroup (rootless, none delegated to you): nothing counts its use`);
  const ownNetwork = rec.spec.linux?.namespaces?.some((n) => n.type === "network") ?? false;
  const net = ownNetwork && rec.init ? netBytes(rec.init.pid) : { netRx: null, netTx: null };
  return { id, at: performance.now(), stats: openCgroup(rec.cgroup).stats(), net };
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
    return { id: a.id, cpuPercent: cpu, ...b.stats, ...b.net };
  });
}
