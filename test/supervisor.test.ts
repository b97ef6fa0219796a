// The supervisor of detached containers (src/engine/supervisor.ts): one process for
// many, started by the first `run -d`, gone with the last container; the race between
// an exiting supervisor and a new `run -d`; what a SIGKILLed supervisor does to its
// containers (docs/detached.md); a terminal (-dt); relative paths; no fd of one
// container's log reaches another.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_ROOT, WORK, mycrEnv } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";
import { alive, parentPid, supervisorsOf } from "./helpers/containers";

let rootfs: string;
const made: string[] = [];
beforeAll(() => {
  rootfs = busyboxRootfs();
});
afterAll(async () => {
  for (let i = 0; i < made.length; i += 20) await mycr(["rm", "-f", ...made.slice(i, i + 20)], { timeoutMs: 60_000 });
});

let counter = 0;
function uniqueName(base: string): string {
  return `${base}-${process.pid}-${++counter}`;
}

async function runD(args: string[], env: Record<string, string> = {}): Promise<{ id: string; name: string }> {
  const name = uniqueName("sup");
  made.push(name);
  const r = await mycr(["run", "-d", "--name", name, "--rootfs", rootfs, ...args], { env, timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`run -d failed (${r.exitCode}): ${r.stderr}`);
  return { id: r.stdout.trim(), name };
}

interface Inspected {
  Monitor: number;
  State: { Status: string; Pid: number; ExitCode: number; Error: string };
}

async function inspect(...names: string[]): Promise<Inspected[]> {
  const r = await mycr(["inspect", ...names]);
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout) as Inspected[];
}

const supervisors = (): number[] => supervisorsOf(MYCR, TEST_ROOT);

const socket = join(TEST_ROOT, "supervisor.sock");

async function until(done: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await Bun.sleep(50);
  }
}

const ppid = parentPid;

test("one supervisor for many containers: the parent of each PID 1; it exits with the last one", async () => {
  const a = await runD(["--", "sleep", "60"]);
  const b = await runD(["--", "sleep", "60"]);
  const c = await runD(["--", "sleep", "60"]);
  const infos = await inspect(a.name, b.name, c.name);
  const supervisor = infos[0]!.Monitor;
  expect(supervisors()).toEqual([supervisor]);
  for (const i of infos) {
    expect(i.Monitor).toBe(supervisor);
    expect(ppid(i.State.Pid)).toBe(supervisor);
  }
  expect(existsSync(socket)).toBe(true);
  expect((await mycr(["rm", "-f", a.name, b.name])).exitCode).toBe(0);
  // still there for the third
  expect(alive(supervisor)).toBe(true);
  expect((await mycr(["exec", c.name, "true"])).exitCode).toBe(0);
  expect((await mycr(["stop", "-t", "1", c.name])).exitCode).toBe(0);
  await until(() => !alive(supervisor), 10_000, "the supervisor exits after the last container");
  expect(existsSync(socket)).toBe(false);
  // sleep as PID 1 has no handler for SIGTERM (the kernel ignores it): killed after -t 1
  expect((await mycr(["wait", c.name])).stdout.trim()).toBe("137");
});

test("an exiting supervisor and a new run -d: every run -d gets a supervisor, every exit is recorded", async () => {
  // The exiting supervisor lingers 300 ms between closing its socket and exiting: each
  // round's second run -d finds it refusing connections and still holding its lock.
  const env = { MYCR_SUPERVISOR_EXIT_DELAY_MS: "300" };
  for (let round = 0; round < 4; round++) {
    const first = await runD(["--", "sh", "-c", "echo first"], env);
    // the first container exits at once: its supervisor is exiting or gone now
    await until(async () => (await mycr(["wait", first.name])).exitCode === 0, 10_000, "first exits");
    const racing = await Promise.all([runD(["--", "sh", "-c", "echo second; sleep 0.3"], env), runD(["--", "sh", "-c", "echo third"], env)]);
    for (const r of racing) {
      expect((await mycr(["wait", r.name])).stdout.trim()).toBe("0");
      expect((await mycr(["logs", r.name])).stdout).toMatch(/^(second|third)\n$/);
    }
  }
  await until(() => supervisors().length === 0, 10_000, "the last supervisor exits");
  expect(existsSync(socket)).toBe(false);
});

test("concurrent run -d while supervisors come and go: none fails", async () => {
  const env = { MYCR_SUPERVISOR_EXIT_DELAY_MS: "100" };
  const client = async (k: number) => {
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runD(["--", "sh", "-c", `echo ${k}-${i}`], env);
      names.push(r.name);
      await mycr(["wait", r.name]);
    }
    return names;
  };
  const all = (await Promise.all([0, 1, 2, 3].map(client))).flat();
  for (const name of all) expect((await mycr(["logs", name])).stdout).toMatch(/^\d-\d\n$/);
  await until(() => supervisors().length === 0, 10_000, "the last supervisor exits");
});

test("supervisor SIGKILLed with 20 containers: the kernel stops all, ps says dead, the next supervisor records each", async () => {
  const N = 20;
  const started = await Promise.all(Array.from({ length: N }, () => runD(["--", "sh", "-c", "echo up; exec sleep 600"])));
  const infos = await inspect(...started.map((s) => s.name));
  const supervisor = infos[0]!.Monitor;
  expect(new Set(infos.map((i) => i.Monitor))).toEqual(new Set([supervisor]));
  const pids = infos.map((i) => i.State.Pid);
  for (const pid of pids) expect(alive(pid)).toBe(true);
  process.kill(supervisor, "SIGKILL");
  // kernel-enforced: each PID 1's parent-death signal, then its PID namespace goes with it
  await until(() => pids.every((p) => !alive(p)), 10_000, "every container's PID 1 is killed");
  const ps = JSON.parse(`[${(await mycr(["ps", "-a", "--format", "json"])).stdout.trim().split("\n").join(",")}]`) as { Names: string; State: string }[];
  for (const s of started) expect(ps.find((r) => r.Names === s.name)?.State).toBe("dead");
  // The next run -d starts a new supervisor, which records what its predecessor left.
  const next = await runD(["--", "sleep", "60"]);
  const [fresh] = await inspect(next.name);
  expect(fresh!.Monitor).not.toBe(supervisor);
  await until(
    async () => (await inspect(...started.map((s) => s.name))).every((i) => i.State.Status === "exited"),
    30_000,
    "the new supervisor records every dead container exited",
  );
  for (const i of await inspect(...started.map((s) => s.name))) {
    expect(i.State.ExitCode).toBe(-1);
    expect(i.State.Error).toContain("supervisor");
  }
  // their logs are what they wrote before
  expect((await mycr(["logs", started[0]!.name])).stdout).toBe("up\n");
  expect((await mycr(["wait", started[0]!.name])).stdout.trim()).toBe("-1");
  await mycr(["rm", "-f", next.name]);
}, 240_000);

test("-dt: the container gets a terminal; its output goes to the log", async () => {
  const { name } = await runD(["-t", "--", "sh", "-c", "tty; stty size; echo done"]);
  expect((await mycr(["wait", name])).stdout.trim()).toBe("0");
  const out = (await mycr(["logs", name])).stdout;
  expect(out).toMatch(/^\/dev\/pts\/0\r\n/);
  expect(out).toContain("done\r\n");
});

test("relative paths of run -d mean the directory it was typed in, not the supervisor's", async () => {
  const keeper = await runD(["--", "sleep", "60"]); // a supervisor already runs, started elsewhere
  const dir = join(WORK, `sup-cwd-${process.pid}`);
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "data", "f"), "from the caller's directory\n");
  try {
    const name = uniqueName("sup-cwd");
    made.push(name);
    const p = Bun.spawnSync([MYCR, "run", "-d", "--name", name, "--rootfs", rootfs, "-v", "./data:/data:ro", "--", "cat", "/data/f"], { cwd: dir, env: mycrEnv() });
    expect(p.exitCode).toBe(0);
    expect((await mycr(["wait", name])).stdout.trim()).toBe("0");
    expect((await mycr(["logs", name])).stdout).toBe("from the caller's directory\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await mycr(["rm", "-f", keeper.name]);
  }
});

test("another container's log pipe is not inherited: a container holds only its own stdio", async () => {
  const others = await Promise.all([0, 1, 2].map(() => runD(["--", "sleep", "60"])));
  for (let i = 0; i < 3; i++) {
    const { name } = await runD(["--", "ls", "/proc/self/fd"]);
    await mycr(["wait", name]);
    // 0, 1, 2 and the directory ls itself reads
    expect((await mycr(["logs", name])).stdout.split("\n").filter(Boolean)).toEqual(["0", "1", "2", "3"]);
  }
  await mycr(["rm", "-f", ...others.map((o) => o.name)]);
});

test("a container flooding its output does not starve another's log under the same supervisor", async () => {
  // The flood goes to a log rotated at 64 KiB; the quiet one must still get every line.
  for (let round = 0; round < 2; round++) {
    const flood = await runD(["--log-opt", "max-size=64k,max-file=2", "--", "yes", "flood"]);
    const quiet = await runD(["--", "sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; sleep 0.2; done"]);
    expect((await mycr(["wait", quiet.name], { timeoutMs: 90_000 })).stdout.trim()).toBe("0");
    expect((await mycr(["logs", quiet.name])).stdout).toBe("line-1\nline-2\nline-3\nline-4\nline-5\n");
    expect((await mycr(["logs", "--tail", "1", flood.name])).stdout).toBe("flood\n");
    await mycr(["rm", "-f", flood.name, quiet.name]);
  }
}, 240_000);

test("concurrent run -d take turns at the native init's window: under MYCR_INIT=native every one starts", async () => {
  // MYCR_INIT=native refuses (one line, exit 125) a start it cannot give the native init:
  // a second start while the window is taken would be one, were starts not queued.
  const env = { MYCR_INIT: "native" };
  const keeper = await runD(["--", "sleep", "60"], env); // the supervisor runs under MYCR_INIT=native
  const supervisor = (await inspect(keeper.name))[0]!.Monitor;
  for (let round = 0; round < 3; round++) {
    const batch = await Promise.all(Array.from({ length: 6 }, (_, i) => runD(["--", "sh", "-c", `echo ${round}-${i}; exec sleep 60`], env)));
    const infos = await inspect(...batch.map((b) => b.name));
    for (const i of infos) {
      expect(i.Monitor).toBe(supervisor);
      expect(i.State.Status).toBe("running");
      expect(ppid(i.State.Pid)).toBe(supervisor);
    }
    await until(async () => (await Promise.all(batch.map((b) => mycr(["logs", b.name])))).every((l, i) => l.stdout === `${round}-${i}\n`), 10_000, "each logs its line");
    expect((await mycr(["rm", "-f", ...batch.map((b) => b.name)])).exitCode).toBe(0);
  }
  expect((await mycr(["rm", "-f", keeper.name])).exitCode).toBe(0);
  await until(() => !alive(supervisor), 10_000, "the supervisor exits after the last container");
}, 120_000);
