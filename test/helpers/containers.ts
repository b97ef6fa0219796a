// Finding a container's processes from the host, as a user would with ps.
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { isMycrProcess } from "./mycr-process";

/**
 * Host pid of the process whose command line contains `marker` (or, with `exact`, is
 * exactly it), in a PID namespace not ours.
 */
export function containerPid(marker: string, exact = false): number | null {
  const ours = readlinkSync("/proc/self/ns/pid");
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/pid`) === ours) continue;
      // A child between fork and exec still runs mycr with mycr's command line (which
      // holds the marker): that is mycr's init being born, not the container's program.
      if (isMycrProcess(pid)) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      if (exact ? cmdline === marker : cmdline.includes(marker)) return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

export async function waitForContainerPid(marker: string, timeoutMs = 10_000, exact = false): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = containerPid(marker, exact);
    if (pid !== null) return pid;
    if (Date.now() > deadline) throw new Error(`no container process with "${marker}" appeared`);
    await Bun.sleep(10);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The parent of `pid`, as /proc/PID/stat says. */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** The supervisors (`mycr supervisor`) of `binary` for the MYCR_ROOT `root` (another root has its own). */
export function supervisorsOf(binary: string, root: string): number[] {
  const r = Bun.spawnSync(["pgrep", "-f", `^${binary} supervisor$`]);
  return r.stdout.toString().split("\n").filter(Boolean).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`MYCR_ROOT=${root}`);
    } catch {
      return false; // gone
    }
  });
}
