// Memory that detached containers' supervising processes cost, per container: mycr's
// supervisor (one for all), podman's conmon (one per container, podman driving mycr as
// its OCI runtime) and containerd's shim (containerd-shim-runc-v2, `ctr run -d` with mycr
// as its runc binary). For each, N = 1, 10, 50 detached `sleep` containers; the PSS
// (proportional set size: shared pages divided among their users) and private memory of
// all supervising processes summed from /proc/PID/smaps_rollup; the slope between N = 1
// and N = 50 is what one more container adds, the intercept is the fixed cost.
//   bun bench/monitor.ts [--counts 1,10,50] [--only mycr,podman,containerd]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { MYCR, mycrEnv } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";

const { values } = parseArgs({ options: { counts: { type: "string", default: "1,10,50" }, only: { type: "string", default: "mycr,podman,containerd" } } });
const counts = values.counts.split(",").map(Number);
const only = new Set(values.only.split(","));
const rootfs = busyboxRootfs();
const IMAGE = "localhost/mycr-bench-busybox:latest";
const BATCH = 5; // starts at once: the machine has 2 cores

interface Memory {
  pss: number;
  priv: number;
  /** PSS of anonymous memory: what the kernel cannot drop and read back from the binary. */
  anon: number;
}

function rollup(pid: number): Memory {
  const f: Record<string, number> = {};
  try {
    for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, "utf8").split("\n")) {
      const m = /^(\w+):\s+(\d+) kB/.exec(line);
      if (m) f[m[1]!] = Number(m[2]) / 1024;
    }
  } catch {
    // gone meanwhile
  }
  return { pss: f.Pss ?? 0, priv: (f.Private_Clean ?? 0) + (f.Private_Dirty ?? 0), anon: f.Pss_Anon ?? 0 };
}

function sum(pids: number[]): Memory {
  return pids.map(rollup).reduce((a, m) => ({ pss: a.pss + m.pss, priv: a.priv + m.priv, anon: a.anon + m.anon }), { pss: 0, priv: 0, anon: 0 });
}

function run(cmd: string[], env?: Record<string, string>): string {
  const r = Bun.spawnSync(cmd, { env: env ?? (process.env as Record<string, string>), stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.slice(0, 4).join(" ")}...: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}

async function runAsync(cmd: string[], env?: Record<string, string>): Promise<string> {
  const p = Bun.spawn(cmd, { env: env ?? (process.env as Record<string, string>), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${cmd.slice(0, 4).join(" ")}...: ${err.trim()}`);
  return out.trim();
}

/** Processes whose command line (as words) satisfies `match`. */
function processesMatching(match: (words: string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (match(readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0"))) pids.push(Number(name));
    } catch {
      // gone
    }
  }
  return pids;
}

interface Contender {
  name: string;
  /** Starts detached containers number `from` .. `to - 1`. */
  start(from: number, to: number): Promise<void>;
  /** The processes that supervise its containers now. */
  supervisors(): number[];
  cleanup(): Promise<void>;
}

/** Starts containers `from` .. `to - 1`, named PREFIX-PID-I, BATCH at a time; adds their names to `names`. */
async function startNamed(prefix: string, names: string[], from: number, to: number, start: (name: string) => Promise<unknown>): Promise<void> {
  for (let i = from; i < to; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, to - i) }, (_, k) => `${prefix}-${process.pid}-${i + k}`);
    names.push(...batch);
    await Promise.all(batch.map(start));
  }
}

function mycrContender(): Contender {
  const env = mycrEnv();
  const names: string[] = [];
  return {
    name: "mycr supervisor",
    start: (from, to) => startNamed("bench-sup", names, from, to, (n) => runAsync([MYCR, "run", "-d", "--name", n, "--rootfs", rootfs, "--", "sleep", "600"], env)),
    supervisors() {
      const monitors = (JSON.parse(run([MYCR, "inspect", ...names], env)) as { Monitor: number }[]).map((i) => i.Monitor);
      return [...new Set(monitors)];
    },
    async cleanup() {
      for (let i = 0; i < names.length; i += 25) run([MYCR, "rm", "-f", ...names.slice(i, i + 25)], env);
    },
  };
}

const PODMAN = ["podman", "--runtime", MYCR, "--cgroup-manager", "cgroupfs"];

function importImage(): void {
  const tar = Bun.spawnSync(["tar", "-C", rootfs, "-c", "."]);
  const imported = Bun.spawnSync(["podman", "import", "-", IMAGE], { stdin: tar.stdout });
  if (imported.exitCode !== 0) throw new Error(`podman import: ${imported.stderr}`);
}

function podmanContender(): Contender {
  const names: string[] = [];
  return {
    name: "podman conmon",
    // no CAP_SYS_RESOURCE here: podman's default rlimits cannot be granted
    start: (from, to) =>
      startNamed("bench-conmon", names, from, to, (n) => runAsync([...PODMAN, "run", "-d", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--name", n, IMAGE, "sleep", "600"])),
    supervisors() {
      return names.map((n) => Number(run([...PODMAN, "inspect", "--format", "{{.State.ConmonPid}}", n])));
    },
    async cleanup() {
      for (let i = 0; i < names.length; i += 25) Bun.spawnSync([...PODMAN, "rm", "-f", "-t", "0", ...names.slice(i, i + 25)]);
    },
  };
}

async function containerdContender(): Promise<Contender> {
  const dir = mkdtempSync(join(tmpdir(), "bench-ctrd-"));
  const sock = join(dir, "c.sock");
  const ctr = (args: string[]) => ["ctr", "-a", sock, ...args];
  const daemon: Subprocess = Bun.spawn(["containerd", "--root", join(dir, "root"), "--state", join(dir, "state"), "--address", sock], { stdout: "ignore", stderr: "ignore" });
  for (let i = 0; i < 100 && Bun.spawnSync(ctr(["version"])).exitCode !== 0; i++) await Bun.sleep(100);
  run(["podman", "save", "--format", "docker-archive", "-o", join(dir, "image.tar"), IMAGE]);
  run(ctr(["image", "import", join(dir, "image.tar")]));
  const ids: string[] = [];
  return {
    name: "containerd shim",
    start: (from, to) => startNamed("bench-shim", ids, from, to, (id) => runAsync(ctr(["run", "-d", "--runc-binary", MYCR, IMAGE, id, "sleep", "600"]))),
    // the shims of our containerd: started with its address
    supervisors: () => processesMatching((w) => (w[0] ?? "").endsWith("containerd-shim-runc-v2") && w.includes(sock)),
    async cleanup() {
      for (const id of ids) {
        Bun.spawnSync(ctr(["task", "kill", "-s", "SIGKILL", id]));
      }
      await Bun.sleep(500);
      for (const id of ids) {
        Bun.spawnSync(ctr(["task", "delete", "-f", id]));
        Bun.spawnSync(ctr(["container", "delete", id]));
      }
      daemon.kill("SIGTERM");
      await daemon.exited;
      const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m.startsWith(dir));
      for (const m of mounts.sort().reverse()) Bun.spawnSync(["umount", "-l", m]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Row {
  name: string;
  at: Map<number, Memory>;
}

async function measure(c: Contender): Promise<Row> {
  const row: Row = { name: c.name, at: new Map() };
  let have = 0;
  try {
    for (const n of counts) {
      await c.start(have, n);
      have = n;
      await Bun.sleep(2000); // let start-up garbage be collected
      const pids = c.supervisors();
      const m = sum(pids);
      row.at.set(n, m);
      console.error(`${c.name}: N=${n}: ${pids.length} process(es), PSS ${m.pss.toFixed(1)} MiB (anonymous ${m.anon.toFixed(1)}), private ${m.priv.toFixed(1)} MiB`);
    }
  } finally {
    await c.cleanup();
  }
  return row;
}

const rows: Row[] = [];
const havePodman = Bun.spawnSync(["sh", "-c", "command -v podman"]).exitCode === 0;
const haveCtr = Bun.spawnSync(["sh", "-c", "command -v containerd && command -v ctr && command -v containerd-shim-runc-v2"]).exitCode === 0;
if (only.has("mycr")) rows.push(await measure(mycrContender()));
if ((only.has("podman") || only.has("containerd")) && havePodman) importImage();
if (only.has("podman") && havePodman) rows.push(await measure(podmanContender()));
if (only.has("containerd") && havePodman && haveCtr) rows.push(await measure(await containerdContender()));
if (havePodman) Bun.spawnSync(["podman", "rmi", IMAGE]);

const lo = counts[0]!;
const hi = counts.at(-1)!;
const f = (x: number) => x.toFixed(2);
console.log(`| supervising processes | ${counts.map((n) => `PSS at N=${n}`).join(" | ")} | PSS per added container | private per added container | fixed PSS (intercept) | of which anonymous |`);
console.log(`| --- | ${counts.map(() => "---").join(" | ")} | --- | --- | --- | --- |`);
for (const r of rows) {
  const a = r.at.get(lo)!;
  const b = r.at.get(hi)!;
  const slope = (b.pss - a.pss) / (hi - lo);
  const slopePriv = (b.priv - a.priv) / (hi - lo);
  const slopeAnon = (b.anon - a.anon) / (hi - lo);
  console.log(`| ${r.name} | ${counts.map((n) => `${f(r.at.get(n)!.pss)} MiB`).join(" | ")} | **${f(slope)} MiB** | ${f(slopePriv)} MiB | ${f(a.pss - slope * lo)} MiB | ${f(a.anon - slopeAnon * lo)} MiB |`);
}
