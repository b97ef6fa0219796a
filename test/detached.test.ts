// Detached containers (`run -d`) and the lifecycle commands: ps, logs, exec, stop, kill,
// rm, wait, inspect, top, stats, container prune; names; crashes of the monitor.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TEST_ROOT } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";
import { alive } from "./helpers/containers";

let rootfs: string;
const made: string[] = [];
beforeAll(() => {
  rootfs = busyboxRootfs();
});
afterAll(async () => {
  if (made.length > 0) await mycr(["rm", "-f", ...made]);
});

let counter = 0;
function uniqueName(base: string): string {
  return `${base}-${process.pid}-${++counter}`;
}

/** `run -d` on the busybox root; returns the id. */
async function runD(args: string[], name = uniqueName("d")): Promise<{ id: string; name: string }> {
  const r = await mycr(["run", "-d", "--name", name, "--rootfs", rootfs, ...args]);
  if (r.exitCode !== 0) throw new Error(`run -d failed (${r.exitCode}): ${r.stderr}`);
  const id = r.stdout.trim();
  made.push(name);
  return { id, name };
}

interface PsRow {
  ID: string;
  Names: string;
  State: string;
  Status: string;
  ExitCode?: number;
  Pid?: number;
}

async function psAll(): Promise<PsRow[]> {
  const r = await mycr(["ps", "-a", "--format", "json"]);
  return r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as PsRow);
}

async function waitState(name: string, state: string, ms = 10_000): Promise<PsRow> {
  const deadline = Date.now() + ms;
  for (;;) {
    const row = (await psAll()).find((r) => r.Names === name);
    if (row?.State === state) return row;
    if (Date.now() > deadline) throw new Error(`${name} never became ${state}: ${JSON.stringify(row)}`);
    await Bun.sleep(50);
  }
}

interface Inspected {
  Id: string;
  Monitor: number;
  RestartCount: number;
  LogPath: string;
  State: { Status: string; Pid: number; ExitCode: number; StartedAt: string; FinishedAt: string };
}

async function inspect(name: string): Promise<Inspected> {
  const r = await mycr(["inspect", name]);
  expect(r.exitCode).toBe(0);
  return (JSON.parse(r.stdout) as Inspected[])[0]!;
}

test("run -d prints the id and returns; ps lists it running under its name", async () => {
  const t0 = performance.now();
  const { id, name } = await runD(["--", "sh", "-c", "echo up; sleep 60"]);
  expect(performance.now() - t0).toBeLessThan(10_000);
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  const ps = await mycr(["ps"]);
  const line = ps.stdout.split("\n").find((l) => l.includes(name))!;
  expect(line.startsWith(id.slice(0, 12))).toBe(true);
  expect(line).toMatch(/Up (Less than a second|\d+ seconds?)/);
  expect((await mycr(["ps", "-q"])).stdout.split("\n")).toContain(id.slice(0, 12));
  // the monitor: its own session, the parent of the container's PID 1
  const info = await inspect(name);
  const monitor = info.Monitor;
  const pid = info.State.Pid;
  expect(alive(monitor)).toBe(true);
  const stat = (p: number) => readFileSync(`/proc/${p}/stat`, "utf8").slice(readFileSync(`/proc/${p}/stat`, "utf8").lastIndexOf(")") + 2).split(" ");
  expect(Number(stat(pid)[1])).toBe(monitor); // ppid
  expect(Number(stat(monitor)[3])).toBe(monitor); // session id: a session of its own
  expect(Number(stat(monitor)[3])).not.toBe(Number(stat(process.pid)[3]));
  await mycr(["rm", "-f", name]);
});

test("logs: stdout and stderr as written, --tail, -t, and -f until the container exits", async () => {
  const { name } = await runD(["--", "sh", "-c", "echo one; echo two >&2; echo three; sleep 1; echo four; exit 0"]);
  await waitState(name, "running");
  const follow = await mycr(["logs", "-f", name]);
  expect(follow.exitCode).toBe(0);
  expect(follow.stdout).toBe("one\nthree\nfour\n");
  expect(follow.stderr).toBe("two\n");
  expect((await mycr(["logs", "--tail", "1", name])).stdout).toBe("four\n");
  const stamped = (await mycr(["logs", "-t", name])).stdout.split("\n")[0]!;
  expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z one$/);
  expect((await mycr(["logs", "--since", "2000-01-01T00:00:00Z", name])).stdout).toBe("one\nthree\nfour\n");
  expect((await mycr(["logs", "--since", "2100-01-01T00:00:00Z", name])).stdout).toBe("");
});

test("the exit code is recorded: ps says Exited (N) ... ago, wait prints N, inspect has the times", async () => {
  const { name, id } = await runD(["--", "sh", "-c", "exit 3"]);
  const w = await mycr(["wait", name]);
  expect(w.stdout).toBe("3\n");
  const row = await waitState(name, "exited");
  expect(row.Status).toMatch(/^Exited \(3\) (Less than a second|\d+ seconds?) ago$/);
  expect((await mycr(["ps"])).stdout).not.toContain(id.slice(0, 12)); // not running: only with -a
  const info = await inspect(id.slice(0, 8)); // a unique prefix
  expect(info.State.ExitCode).toBe(3);
  expect(Date.parse(info.State.FinishedAt)).toBeGreaterThanOrEqual(Date.parse(info.State.StartedAt));
  expect(info.LogPath).toBe(join(TEST_ROOT, "containers", id, "container.log"));
});

test("names are unique; unknown names and bad input are one line and 125", async () => {
  const { name } = await runD(["--", "sleep", "60"]);
  const again = await mycr(["run", "-d", "--name", name, "--rootfs", rootfs, "true"]);
  expect(again.exitCode).toBe(125);
  expect(again.stderr).toBe(`mycr: the name "${name}" is already in use by container ${(await inspect(name)).Id.slice(0, 12)} (remove it or choose another name)\n`);
  // a foreground run may not take it either
  expect((await mycr(["run", "--name", name, "--rootfs", rootfs, "true"])).exitCode).toBe(125);
  for (const cmd of [["logs", "no-such"], ["stop", "no-such"], ["rm", "no-such"], ["exec", "no-such", "true"], ["inspect", "no-such"], ["kill", "-s", "KILL", "no-such"]]) {
    const r = await mycr(cmd);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toBe('mycr: container "no-such" does not exist\n');
  }
  const rm = await mycr(["rm", name]);
  expect(rm.exitCode).toBe(125);
  expect(rm.stderr).toBe(`mycr: cannot remove container ${name}: it is running (stop it first, or use -f)\n`);
  const missing = await mycr(["run", "-d", "--rootfs", rootfs, "no-such-program"]);
  expect(missing.exitCode).toBe(127);
  expect(missing.stderr.trim().split("\n")).toHaveLength(1);
  expect((await mycr(["run", "-d", "--restart", "sometimes", "true"])).stderr).toBe("mycr: --restart sometimes: use no, on-failure[:N] or always\n");
  await mycr(["rm", "-f", name]);
});

test("exec by name: docker's flags, the process's exit code; not into a stopped container", async () => {
  const { name } = await runD(["--", "sleep", "60"]);
  const r = await mycr(["exec", "-w", "/tmp", "-e", "A=1", name, "sh", "-c", "echo $A $(pwd)"]);
  expect(r.stdout).toBe("1 /tmp\n");
  expect((await mycr(["exec", "-i", name, "cat"], { stdin: "piped\n" })).stdout).toBe("piped\n");
  expect((await mycr(["exec", name, "sh", "-c", "exit 7"])).exitCode).toBe(7);
  await mycr(["stop", "-t", "0", name]);
  const stopped = await mycr(["exec", name, "true"]);
  expect(stopped.exitCode).toBe(125);
  expect(stopped.stderr).toBe(`mycr: cannot exec in container ${name}: it is exited\n`);
});

test("stop: SIGTERM ends a container with --init at once; one ignoring it is killed after -t", async () => {
  const { name: polite } = await runD(["--init", "--", "sleep", "60"]);
  const t0 = performance.now();
  expect((await mycr(["stop", polite])).stdout).toBe(`${polite}\n`);
  expect(performance.now() - t0).toBeLessThan(5000);
  expect((await waitState(polite, "exited")).ExitCode).toBe(143);
  const { name: stubborn } = await runD(["--", "sleep", "60"]); // PID 1 without a handler ignores SIGTERM
  const t1 = performance.now();
  await mycr(["stop", "-t", "1", stubborn]);
  expect(performance.now() - t1).toBeGreaterThanOrEqual(900);
  expect((await waitState(stubborn, "exited")).ExitCode).toBe(137);
});

test("kill: -s SIG NAME... and runc's ID SIGNAL", async () => {
  const a = await runD(["--", "sh", "-c", "trap 'exit 10' USR1; while :; do sleep 0.05; done"]);
  const b = await runD(["--", "sh", "-c", "trap 'exit 11' USR1; while :; do sleep 0.05; done"]);
  await waitState(a.name, "running");
  await waitState(b.name, "running");
  await Bun.sleep(200); // the traps are set
  const named = await mycr(["kill", "-s", "USR1", a.name, b.name]);
  expect(named.exitCode).toBe(0);
  expect(named.stdout).toBe(`${a.name}\n${b.name}\n`); // as docker: each container as named
  expect((await waitState(a.name, "exited")).ExitCode).toBe(10);
  expect((await waitState(b.name, "exited")).ExitCode).toBe(11);
  const c = await runD(["--", "sleep", "60"]);
  expect((await mycr(["kill", c.id, "KILL"])).exitCode).toBe(0);
  expect((await waitState(c.name, "exited")).ExitCode).toBe(137);
});

test("--restart on-failure:2 restarts twice under the same monitor; always stops with stop", async () => {
  const { name } = await runD(["--restart", "on-failure:2", "--", "sh", "-c", "echo run; exit 1"]);
  await waitState(name, "exited", 15_000);
  const info = await inspect(name);
  expect(info.RestartCount).toBe(2);
  expect((await mycr(["logs", name])).stdout).toBe("run\nrun\nrun\n");
  const { name: always } = await runD(["--restart", "always", "--", "sh", "-c", "sleep 0.2; exit 0"]);
  const deadline = Date.now() + 10_000;
  while ((await inspect(always)).RestartCount < 2 && Date.now() < deadline) await Bun.sleep(50);
  expect((await inspect(always)).RestartCount).toBeGreaterThanOrEqual(2);
  await mycr(["stop", "-t", "1", always]);
  const count = (await inspect(always)).RestartCount;
  await Bun.sleep(700);
  const after = await inspect(always);
  expect(after.State.Status).toBe("exited");
  expect(after.RestartCount).toBe(count);
});

test("--rm removes the container and its log when it exits", async () => {
  const name = uniqueName("autorm");
  const r = await mycr(["run", "-d", "--rm", "--name", name, "--rootfs", rootfs, "true"]);
  expect(r.exitCode).toBe(0);
  const dir = join(TEST_ROOT, "containers", r.stdout.trim());
  const deadline = Date.now() + 10_000;
  while (existsSync(dir) && Date.now() < deadline) await Bun.sleep(50);
  expect(existsSync(dir)).toBe(false);
});

test("the log is rotated by size: --log-opt max-size, max-file", async () => {
  const { id, name } = await runD(["--log-opt", "max-size=2k,max-file=2", "--", "sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done"]);
  await mycr(["wait", name]);
  const files = readdirSync(join(TEST_ROOT, "containers", id)).filter((f) => f.startsWith("container.log"));
  expect(files.sort()).toEqual(["container.log", "container.log.1"]);
  const lines = (await mycr(["logs", name])).stdout.trim().split("\n");
  expect(lines.at(-1)).toBe("line-199");
  expect(lines.length).toBeLessThan(200);
});

test("a killed monitor: ps shows the container dead, gc cleans its runtime state, rm -f removes it", async () => {
  const { name } = await runD(["--", "sleep", "60"]);
  const info = await inspect(name);
  process.kill(info.Monitor, "SIGKILL");
  const row = await waitState(name, "dead");
  expect(row.Status).toBe("Dead");
  const pid = info.State.Pid;
  const deadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < deadline) await Bun.sleep(20); // init's parent-death signal
  expect(alive(pid)).toBe(false);
  expect((await mycr(["gc"])).exitCode).toBe(0);
  const after = await inspect(name);
  expect(after.State.Status).toBe("exited");
  expect(after.State.ExitCode).toBe(-1);
  expect((await mycr(["rm", "-f", name])).exitCode).toBe(0);
  expect((await psAll()).some((r) => r.Names === name)).toBe(false);
});

test("top, stats for all running containers, container prune", async () => {
  const { name, id } = await runD(["--", "sh", "-c", "sleep 61"]);
  await waitState(name, "running");
  await Bun.sleep(100);
  expect((await mycr(["top", name])).stdout).toContain("sleep 61");
  const stats = await mycr(["stats", "--no-stream", "--format", "json"]);
  expect(stats.exitCode).toBe(0);
  expect(stats.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string }).some((s) => s.id === id)).toBe(true);
  const done = await runD(["true"]);
  await mycr(["wait", done.name]);
  const prune = await mycr(["container", "prune"]);
  expect(prune.stdout).toContain(done.id);
  expect(prune.stdout).not.toContain(id);
  await mycr(["rm", "-f", name]);
});
