// Start-up time, mycr side by side with the reference for every target of issue 17,
// interleaved (one mycr sample, one reference sample, ...) so both see the same machine;
// medians of wall and CPU time (user + system, children included) and their ratios.
//   bun bench/start.ts [--runs 15] [--batch-rounds 3] [--only NAME,...]
// Targets: run ≤ 0.6 × runc (wall), ≤ 1.0 × (CPU); 20 at once ≤ 0.8 × runc's batch;
// --version ≤ 1.2 × a compiled Bun hello; run --image ≤ 0.2 × podman run; the OCI
// face, exec and run -d no slower than runc (≤ 1.0), nor podman's run with mycr as its
// runtime than with runc. Rows "(supervisor up)" keep a
// detached container running, so the supervisor serves each run (docs/run.md, "Runs
// served by the supervisor"); their CPU counts the supervisor's with the client's.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MYCR as BUILT_MYCR, REPO, mycrEnv } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";
import { buildHello, runcBundle } from "./references";
import { freshCopy } from "./fresh-copy";
import { median, timeBatch, timeSteps, which, type Sample, type Step } from "./timing";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    "batch-rounds": { type: "string", default: "3" },
    only: { type: "string" },
  },
});
const runs = Number(values.runs);
const batchRounds = Number(values["batch-rounds"]);
const only = values.only?.split(",");

const installedRunc = which("runc");
if (!installedRunc) {
  console.error("bench: runc is needed as the reference (apt-get install runc)");
  process.exit(2);
}
const podman = which("podman");

const WORK = join(REPO, ".bench-work", `start-${process.pid}`);
mkdirSync(WORK, { recursive: true });
// both sides run from copies written now: see ./fresh-copy.ts
const MYCR = freshCopy(BUILT_MYCR, WORK, "mycr");
const runc = freshCopy(installedRunc, WORK, "runc");
const rootfs = busyboxRootfs();
const env = mycrEnv();
const runcRoot = join(WORK, "runc-state");
const mycr = (...args: string[]): Step => ({ argv: [MYCR, ...args], env });
const runcStep = (...args: string[]): Step => ({ argv: [runc, "--root", runcRoot, ...args] });
let serial = 0;
const nextId = (prefix: string) => `${prefix}-${process.pid}-${serial++}`;

const trueBundle = await runcBundle(runc, join(WORK, "true"), rootfs, ["/bin/true"]);
const sleepBundle = await runcBundle(runc, join(WORK, "sleep"), rootfs, ["/bin/sleep", "600"]);

interface Case {
  name: string;
  reference: string;
  /** Largest acceptable mycr/reference ratio of the median wall time (and of CPU when given). */
  target: { wall: number; cpu?: number };
  mycr: () => Promise<Sample> | Sample;
  ref: () => Promise<Sample> | Sample;
  /** Untimed, after each sample: remove what it left running. */
  after?: () => void;
  rounds?: number;
  setup?: () => void;
  teardown?: () => void;
}

const quiet = (steps: Step[]) => {
  for (const s of steps) Bun.spawnSync(s.argv, { env: s.env, stdout: "ignore", stderr: "ignore" });
};
const runTrue = () => mycr("run", "--rootfs", rootfs, "--network", "none", "--", "/bin/true");
const runcTrue = () => runcStep("run", "--bundle", trueBundle, nextId("bench"));
const leftovers: Step[] = [];

const IMAGE = "localhost/mycr-bench-busybox:latest";
const podmanRunroot = `/run/mycr-bench-${process.pid}`; // podman takes no runroot longer than 50 characters
/** podman with its own stores, its OCI runtime `runtime` (runc unless said). */
const podmanArgs = (args: string[], runtime = runc) => [
  podman!, "--root", join(WORK, "podman-root"), "--runroot", podmanRunroot, "--storage-driver", "overlay",
  "--runtime", runtime, "--cgroup-manager", "cgroupfs", ...args,
];
function importImage(): void {
  const tar = join(WORK, "busybox.tar");
  Bun.spawnSync(["tar", "-C", rootfs, "-cf", tar, "."]);
  for (const argv of [[MYCR, "import", tar, IMAGE], podmanArgs(["import", tar, IMAGE])]) {
    const r = Bun.spawnSync(argv, { env: argv[0] === MYCR ? env : undefined, stdout: "ignore", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`);
  }
}

const runImageTrue = () => mycr("run", "--image", IMAGE, "--network", "none", "--", "/bin/true");
const podmanRunTrue = (runtime = runc) =>
  timeSteps([{ argv: podmanArgs(["run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", IMAGE, "/bin/true"], runtime) }]);
function removeImages(): void {
  quiet([mycr("rmi", IMAGE), { argv: podmanArgs(["system", "reset", "-f"]) }]);
  rmSync(podmanRunroot, { recursive: true, force: true });
}

let execName = "";
let execRuncId = "";
let keeperName = "";
const runDetachedSleep = (name: string) =>
  timeSteps([{ ...mycr("run", "-d", "--name", name, "--rootfs", rootfs, "--network", "none", "--", "sleep", "600"), leavesRunning: true }]);
/** One `run -d` each, removed after the sample (`after`). */
const detachedSamples = {
  mycr: () => {
    const name = nextId("bench-d");
    leftovers.push(mycr("rm", "-f", name));
    return runDetachedSleep(name);
  },
  ref: () => {
    const id = nextId("bench-d");
    leftovers.push(runcStep("delete", "--force", id));
    return timeSteps([{ ...runcStep("run", "-d", "--bundle", sleepBundle, id), leavesRunning: true }]);
  },
  after: () => quiet(leftovers.splice(0)),
};
/** The supervisor of the bench's MYCR_ROOT: a served run's work is done there. */
function supervisorPid(): number {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      if (cmdline[1] !== "supervisor") continue;
      if (readFileSync(`/proc/${name}/environ`, "utf8").split("\0").includes(`MYCR_ROOT=${env.MYCR_ROOT}`)) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error("no supervisor runs for the bench's MYCR_ROOT");
}

/** CPU ms the process has used: its threads (schedstat, ns), and the children it reaped (stat, ticks of 10 ms). */
function cpuOf(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // a thread that ended: its time is in the others' no more, a small loss
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ns / 1e6 + (Number(fields[13]) + Number(fields[14])) * 10; // cutime, cstime
}

let servingPid = 0;
/** A sample of a served run: the client's wall and CPU, plus the CPU the supervisor spent meanwhile. */
async function withSupervisorCpu(sample: () => Promise<Sample> | Sample): Promise<Sample> {
  const before = cpuOf(servingPid);
  const s = await sample();
  return { wall: s.wall, cpu: s.cpu + cpuOf(servingPid) - before };
}
const keepSupervisor = {
  setup: () => {
    keeperName = nextId("bench-keeper");
    runDetachedSleep(keeperName);
    servingPid = supervisorPid();
  },
  teardown: () => quiet([mycr("rm", "-f", keeperName)]),
};

const cases: Case[] = [
  {
    name: "run /bin/true",
    reference: "runc run",
    target: { wall: 0.6, cpu: 1.0 },
    mycr: () => timeSteps([runTrue()]),
    ref: () => timeSteps([runcTrue()]),
  },
  {
    name: "20 runs at once",
    reference: "runc run ×20",
    target: { wall: 0.8 },
    rounds: batchRounds,
    mycr: () => timeBatch(Array.from({ length: 20 }, runTrue)),
    ref: () => timeBatch(Array.from({ length: 20 }, runcTrue)),
  },
  {
    // A detached container keeps the supervisor up, and it serves each run
    // (docs/run.md, "Runs served by the supervisor"); its CPU is counted with the client's.
    name: "run /bin/true (supervisor up)",
    reference: "runc run",
    target: { wall: 0.6, cpu: 1.0 },
    ...keepSupervisor,
    mycr: () => withSupervisorCpu(() => timeSteps([runTrue()])),
    ref: () => timeSteps([runcTrue()]),
  },
  {
    name: "20 runs at once (supervisor up)",
    reference: "runc run ×20",
    target: { wall: 0.8 },
    rounds: batchRounds,
    ...keepSupervisor,
    mycr: () => withSupervisorCpu(() => timeBatch(Array.from({ length: 20 }, runTrue))),
    ref: () => timeBatch(Array.from({ length: 20 }, runcTrue)),
  },
  {
    name: "--version",
    reference: "compiled Bun hello",
    target: { wall: 1.2 },
    setup: () => {
      hello = buildHello(WORK);
    },
    mycr: () => timeSteps([mycr("--version")]),
    ref: () => timeSteps([{ argv: [hello] }]),
  },
  {
    name: "run --image",
    reference: "podman run --rm (runc)",
    target: { wall: 0.2 },
    setup: importImage,
    teardown: removeImages,
    mycr: () => timeSteps([runImageTrue()]),
    ref: () => podmanRunTrue(),
  },
  {
    name: "run --image (supervisor up)",
    reference: "podman run --rm (runc)",
    target: { wall: 0.2 },
    setup: () => {
      importImage();
      keepSupervisor.setup();
    },
    teardown: () => {
      keepSupervisor.teardown();
      removeImages();
    },
    mycr: () => withSupervisorCpu(() => timeSteps([runImageTrue()])),
    ref: () => podmanRunTrue(),
  },
  {
    // what the OCI face costs a platform's user: podman's whole run (conmon, create,
    // start, state, delete) with mycr as its runtime
    name: "podman run (mycr its runtime)",
    reference: "podman run --rm (runc)",
    target: { wall: 1.0 },
    setup: importImage,
    teardown: removeImages,
    mycr: () => podmanRunTrue(MYCR),
    ref: () => podmanRunTrue(),
  },
  {
    name: "create+start+delete",
    reference: "runc create+start+delete",
    target: { wall: 1.0 },
    mycr: () => {
      const id = nextId("bench-oci");
      return timeSteps([{ ...mycr("create", "--bundle", trueBundle, id), leavesRunning: true }, mycr("start", id), mycr("delete", "--force", id)]);
    },
    ref: () => {
      const id = nextId("bench-oci");
      return timeSteps([{ ...runcStep("create", "--bundle", trueBundle, id), leavesRunning: true }, runcStep("start", id), runcStep("delete", "--force", id)]);
    },
  },
  {
    name: "exec /bin/true",
    reference: "runc exec",
    target: { wall: 1.0 },
    setup: () => {
      execName = nextId("bench-exec");
      execRuncId = nextId("bench-exec");
      runDetachedSleep(execName);
      timeSteps([{ ...runcStep("run", "-d", "--bundle", sleepBundle, execRuncId), leavesRunning: true }]);
    },
    teardown: () => quiet([mycr("rm", "-f", execName), runcStep("delete", "--force", execRuncId)]),
    mycr: () => timeSteps([mycr("exec", execName, "/bin/true")]),
    ref: () => timeSteps([runcStep("exec", execRuncId, "/bin/true")]),
  },
  {
    name: "run -d sleep",
    reference: "runc run -d",
    target: { wall: 1.0 },
    ...detachedSamples,
  },
  {
    // The case above removes its container after each sample, so the supervisor exits
    // and each `run -d` starts one; here another container keeps it running.
    name: "run -d sleep (supervisor up)",
    reference: "runc run -d",
    target: { wall: 1.0 },
    ...keepSupervisor,
    ...detachedSamples,
    // the supervisor starts the container: its CPU is counted with the client's
    mycr: () => withSupervisorCpu(detachedSamples.mycr),
  },
];
let hello = "";

interface Row {
  c: Case;
  mycr: Sample;
  ref: Sample;
  n: number;
}

async function measure(c: Case): Promise<Row> {
  c.setup?.();
  try {
    const m: Sample[] = [];
    const r: Sample[] = [];
    // one warm-up each, not counted
    await c.mycr();
    await c.ref();
    c.after?.();
    const n = c.rounds ?? runs;
    for (let i = 0; i < n; i++) {
      m.push(await c.mycr());
      r.push(await c.ref());
      c.after?.();
    }
    const med = (xs: Sample[]): Sample => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) });
    return { c, mycr: med(m), ref: med(r), n };
  } finally {
    c.after?.();
    c.teardown?.();
  }
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const rows: Row[] = [];
try {
  for (const c of cases) {
    if (only && !only.includes(c.name)) continue;
    if (c.reference.startsWith("podman") && !podman) {
      console.error(`bench: podman not found, ${c.name} skipped`);
      continue;
    }
    try {
      rows.push(await measure(c));
    } catch (e) {
      console.error(`bench: ${c.name} failed: ${(e as Error).message}`);
      continue;
    }
    const row = rows.at(-1)!;
    console.error(`bench: ${c.name}: ${fmt(row.mycr.wall)} vs ${fmt(row.ref.wall)}`);
  }
} finally {
  rmSync(WORK, { recursive: true, force: true });
}

const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
console.log(`medians, interleaved; runs ${runs} each (batches: ${batchRounds} rounds); load average at the end ${load}`);
console.log("| | mycr wall | reference | ref wall | wall ratio | target | mycr CPU | ref CPU | CPU ratio |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const { c, mycr: m, ref: r } of rows) {
  const wall = m.wall / r.wall;
  const cpu = m.cpu / r.cpu;
  const ok = wall <= c.target.wall && (c.target.cpu === undefined || cpu <= c.target.cpu);
  const target = `≤ ${c.target.wall.toFixed(2)}${c.target.cpu !== undefined ? ` (CPU ≤ ${c.target.cpu.toFixed(2)})` : ""} ${ok ? "met" : "**not met**"}`;
  console.log(`| ${c.name} | ${fmt(m.wall)} | ${c.reference} | ${fmt(r.wall)} | ${wall.toFixed(2)} | ${target} | ${fmt(m.cpu)} | ${fmt(r.cpu)} | ${cpu.toFixed(2)} |`);
}
