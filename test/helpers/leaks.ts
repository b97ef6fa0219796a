// What a mycr run may leave on the host, listed so the suite can fail on any of it.
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_ROOT, TEST_STATE } from "./env";

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** Processes in a PID namespace other than ours: containers' processes, by pid:starttime. */
export function foreignNamespaceProcesses(): Set<string> {
  const ours = readlinkOrNull("/proc/self/ns/pid");
  const found = new Set<string>();
  for (const pid of entries("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const ns = readlinkOrNull(`/proc/${pid}/ns/pid`);
    if (ns === null || ns === ours) continue;
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8");
      const rest = fields.slice(fields.lastIndexOf(")") + 2).split(" ");
      if (rest[0] === "Z") continue; // dead, waiting for the host's init to reap it
      found.add(`${pid}:${rest[19]}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Processes running the mycr binary. */
export function mycrPids(): number[] {
  const mycr = realpathSync(MYCR);
  return entries("/proc")
    .filter((pid) => /^\d+$/.test(pid) && readlinkOrNull(`/proc/${pid}/exe`) === mycr)
    .map(Number);
}

function mycrProcesses(baseline: Set<string>): string[] {
  const found = mycrPids().map((pid) => `mycr process ${pid}: ${cmdline(String(pid))}`);
  for (const key of foreignNamespaceProcesses()) {
    if (baseline.has(key)) continue;
    const pid = key.split(":")[0]!;
    found.push(`container process ${pid}: ${cmdline(pid)}`);
  }
  return found;
}

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return "?";
  }
}

/** Cgroups named with "mycr" in every hierarchy, named ones (/sys/fs/cgroup/systemd) and cgroup2 included. */
function cgroupDirs(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4) return;
    for (const name of entries(dir)) {
      const path = join(dir, name);
      if (!existsSync(join(path, "cgroup.procs"))) continue;
      if (name.includes("mycr")) found.push(`cgroup ${path}`);
      else walk(path, depth + 1);
    }
  };
  for (const top of entries("/sys/fs/cgroup")) walk(join("/sys/fs/cgroup", top), 0);
  walk("/sys/fs/cgroup", 0);
  return [...new Set(found)];
}

/** Everything of mycr's still on the host; `baseline` lists foreign processes that predate the tests. */
/** Host ends of container interfaces (veths on a mycr bridge) that outlived their container. */
function strayVeths(): string[] {
  const found: string[] = [];
  for (const dev of entries("/sys/class/net")) {
    const master = readlinkOrNull(`/sys/class/net/${dev}/master`);
    if (master && /\/mycr[^/]*$/.test(master) && dev.startsWith("veth")) found.push(`network device ${dev} on ${master.split("/").pop()}`);
  }
  return found;
}

export function findLeaks(baseline: Set<string>): string[] {
  const leaks: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    if (line.includes("mycr")) leaks.push(`mount: ${line}`);
  }
  for (const id of entries(TEST_STATE)) leaks.push(`state dir ${join(TEST_STATE, id)}`);
  for (const id of entries(join(TEST_ROOT, "containers"))) leaks.push(`container dir ${join(TEST_ROOT, "containers", id)}`);
  leaks.push(...cgroupDirs(), ...mycrProcesses(baseline), ...strayVeths());
  return leaks;
}
