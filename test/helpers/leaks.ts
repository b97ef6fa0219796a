// What a mycr run may leave on the host, listed so the suite can fail on any of it.
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { GUARD_COMMENT } from "../../src/net/loopback-guard";
import { TEST_ROOT, TEST_STATE } from "./env";
import { isMycrProcess } from "./mycr-process";
import { rootlessLeftovers } from "./rootless-user";

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

/** Processes running the mycr binary (or its sealed handle). */
export function mycrPids(): number[] {
  return entries("/proc")
    .filter((pid) => /^\d+$/.test(pid) && isMycrProcess(pid))
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

/** Names in the conflists under `root`: networks and the bridges they use. */
function networksOf(root: string): { names: Set<string>; bridges: Set<string> } {
  const names = new Set<string>();
  const bridges = new Set<string>();
  const dir = join(root, "networks");
  for (const file of entries(dir)) {
    if (!file.endsWith(".conflist")) continue;
    try {
      const list = JSON.parse(readFileSync(join(dir, file), "utf8")) as { name: string; plugins: Array<{ bridge?: string }> };
      names.add(list.name);
      if (list.plugins[0]?.bridge) bridges.add(list.plugins[0].bridge);
    } catch {
      // being written: judged on the next look
    }
  }
  return { names, bridges };
}

/** The raw table's PREROUTING rules (none where iptables is not installed: nothing made them). */
function guardRules(): string[] {
  try {
    return Bun.spawnSync(["iptables", "-w", "-t", "raw", "-S", "PREROUTING"], { stderr: "ignore" }).stdout.toString().split("\n");
  } catch {
    return [];
  }
}

/**
 * What `network rm` must take with it: bridges mycr made (mycr...) that no network of
 * any mycr data root on this host names, IPAM state of removed networks in our root,
 * and loopback guard rules (raw PREROUTING) of bridges that no longer exist.
 */
function networkLeftovers(): string[] {
  const found: string[] = [];
  const roots = new Set([TEST_ROOT, ...entries("/var/lib").filter((d) => d.startsWith("mycr")).map((d) => join("/var/lib", d))]);
  const bridges = new Set(["mycr0"]); // the default network's, which is never removed
  for (const root of roots) for (const b of networksOf(root).bridges) bridges.add(b);
  for (const dev of entries("/sys/class/net")) {
    if (dev.startsWith("mycr") && existsSync(`/sys/class/net/${dev}/bridge`) && !bridges.has(dev)) found.push(`bridge ${dev} of a removed network`);
  }
  const ours = networksOf(TEST_ROOT).names;
  const ipam = join(TEST_ROOT, "cni", "ipam");
  for (const net of entries(ipam)) if (!ours.has(net)) found.push(`IPAM state ${join(ipam, net)} of a removed network`);
  for (const rule of guardRules()) {
    if (!rule.includes(GUARD_COMMENT)) continue;
    const bridge = /-i (\S+)/.exec(rule)?.[1];
    if (bridge && !existsSync(`/sys/class/net/${bridge}`)) found.push(`loopback guard rule of bridge ${bridge}, which is gone: ${rule}`);
  }
  return found;
}

/** After a reported leak: removes what networkLeftovers() found, so the next file is judged on its own. */
export function removeNetworkLeftovers(): void {
  for (const leak of networkLeftovers()) {
    try {
      removeNetworkLeftover(leak);
    } catch {
      // a tool missing: the next file's check says what stays
    }
  }
}

function removeNetworkLeftover(leak: string): void {
  const bridge = /^bridge (\S+) of a removed network$/.exec(leak)?.[1];
  if (bridge) Bun.spawnSync(["ip", "link", "del", bridge], { stderr: "ignore" });
  const ipam = /^IPAM state (\S+) of a removed network$/.exec(leak)?.[1];
  if (ipam) rmSync(ipam, { recursive: true, force: true });
  // The rule as iptables -S printed it, quotes and all: the shell splits it back into words.
  const rule = /^loopback guard rule of bridge \S+, which is gone: -A (.*)$/.exec(leak)?.[1];
  if (rule) Bun.spawnSync(["sh", "-c", `iptables -w -t raw -D ${rule}`], { stderr: "ignore" });
}

export function findLeaks(baseline: Set<string>): string[] {
  const leaks: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    if (line.includes("mycr")) leaks.push(`mount: ${line}`);
  }
  for (const id of entries(TEST_STATE)) leaks.push(`state dir ${join(TEST_STATE, id)}`);
  for (const id of entries(join(TEST_ROOT, "containers"))) leaks.push(`container dir ${join(TEST_ROOT, "containers", id)}`);
  // --userns=auto id blocks (engine/userns-ranges.ts): each goes with its container
  for (const id of entries(join(TEST_ROOT, "remapped"))) leaks.push(`--userns=auto root dir ${join(TEST_ROOT, "remapped", id)}`);
  for (const block of entries(join(TEST_ROOT, "userns"))) leaks.push(`userns id block ${join(TEST_ROOT, "userns", block)}`);
  leaks.push(...cgroupDirs(), ...mycrProcesses(baseline), ...strayVeths(), ...networkLeftovers(), ...rootlessLeftovers());
  return leaks;
}
