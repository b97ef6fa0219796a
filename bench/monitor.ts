// Memory of detached containers' monitors: N `run -d` containers, then the PSS
// (proportional set size: shared pages divided among their users) and private memory
// of each monitor from /proc/PID/smaps_rollup, next to conmon's figure on this kind of
// machine (design.md: 2.0 MiB RSS). Removes the containers afterwards.
//   bun bench/monitor.ts [--count 10]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { MYCR, mycrEnv } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";

const { values } = parseArgs({ options: { count: { type: "string", default: "10" } } });
const count = Number(values.count);
const rootfs = busyboxRootfs();

function mycr(...args: string[]): string {
  const r = Bun.spawnSync([MYCR, ...args], { env: mycrEnv(), stderr: "inherit" });
  return r.stdout.toString().trim();
}

function rollup(pid: number): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, "utf8").split("\n")) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) fields[m[1]!] = Number(m[2]) / 1024;
  }
  return fields;
}

const names = Array.from({ length: count }, (_, i) => `bench-monitor-${process.pid}-${i}`);
try {
  for (const n of names) mycr("run", "-d", "--name", n, "--rootfs", rootfs, "--", "sleep", "600");
  await Bun.sleep(500);
  const monitors = (JSON.parse(mycr("inspect", ...names)) as { Monitor: number }[]).map((i) => i.Monitor);
  const stats = monitors.map(rollup);
  const avg = (k: string) => stats.reduce((a, s) => a + (s[k] ?? 0), 0) / stats.length;
  const priv = (s: Record<string, number>) => (s.Private_Clean ?? 0) + (s.Private_Dirty ?? 0);
  console.log(`${count} monitors: RSS ${avg("Rss").toFixed(1)} MiB, PSS ${avg("Pss").toFixed(1)} MiB, private ${(stats.reduce((a, s) => a + priv(s), 0) / stats.length).toFixed(1)} MiB each`);
  console.log("conmon (reference, design.md): 2.0 MiB RSS");
} finally {
  mycr("rm", "-f", ...names);
}
