// The first `run -d` on a root with no supervisor (src/engine/adopt.ts, docs/detached.md):
// the client starts the container itself, with a keeper as init's parent, and the keeper
// becomes the supervisor. What a user checks: the container runs under a supervisor that
// is its PID 1's parent and lives in the host's namespaces; its log, exit code, --rm,
// --restart and -i work as with a started supervisor; a client killed at any moment
// leaves no process behind.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readlinkSync } from "node:fs";
import { MYCR, TEST_ROOT, mycrEnv } from "./helpers/env";
import { mycr, mycrBackground } from "./helpers/mycr";
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
  const name = `${base}-${process.pid}-${++counter}`;
  made.push(name);
  return name;
}

const supervisors = (): number[] => supervisorsOf(MYCR, TEST_ROOT);

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await Bun.sleep(20);
  }
}

const ppid = parentPid;

interface Inspected {
  Monitor: number;
  RestartCount: number;
  State: { Status: string; Pid: number; ExitCode: number };
}

async function inspect(name: string): Promise<Inspected> {
  const r = await mycr(["inspect", name]);
  expect(r.exitCode).toBe(0);
  return (JSON.parse(r.stdout) as Inspected[])[0]!;
}

/** `run -d` with no supervisor of ours running: it must take the keeper's way (its trace says so). */
async function firstRunD(args: string[], env: Record<string, string> = {}): Promise<{ id: string; stderr: string }> {
  await until(() => supervisors().length === 0, 15_000, "no supervisor of ours runs");
  const r = await mycr(["run", "-d", ...args], { env: { MYCR_TRACE: "1", ...env }, timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`run -d failed (${r.exitCode}): ${r.stderr}`);
  expect(r.stderr).toContain("adopt: handed over");
  return { id: r.stdout.trim(), stderr: r.stderr };
}

test("the first run -d: the supervisor made from its keeper is PID 1's parent, in the host's namespaces; log and exit code as usual", async () => {
  for (let round = 0; round < 3; round++) {
    const name = uniqueName("first");
    await firstRunD(["--name", name, "--rootfs", rootfs, "--", "sh", "-c", "echo out-$((40+2)); echo err >&2; read x || echo eof; sleep 1.5; exit 3"]);
    const info = await inspect(name);
    expect(info.State.Status).toBe("running");
    expect(supervisors()).toEqual([info.Monitor]);
    expect(ppid(info.State.Pid)).toBe(info.Monitor);
    // the keeper left the container's namespaces before it became the supervisor
    for (const ns of ["mnt", "net", "uts", "ipc", "pid"]) {
      expect(readlinkSync(`/proc/${info.Monitor}/ns/${ns}`)).toBe(readlinkSync(`/proc/self/ns/${ns}`));
    }
    // nothing of the client's stdio: the supervisor's 0 and 1 are /dev/null
    expect(readlinkSync(`/proc/${info.Monitor}/fd/0`)).toBe("/dev/null");
    expect(readlinkSync(`/proc/${info.Monitor}/fd/1`)).toBe("/dev/null");
    // output written before the supervisor read it is in the log
    // (stdin is /dev/null without -i: `read` meets its end at once)
    await until(async () => (await mycr(["logs", name])).stdout === "out-42\neof\n", 10_000, "the output in the log");
    expect((await mycr(["logs", name])).stderr).toBe("err\n");
    expect((await mycr(["wait", name])).stdout.trim()).toBe("3");
    expect((await inspect(name)).State.ExitCode).toBe(3);
    await until(() => supervisors().length === 0, 10_000, "the supervisor exits with its last container");
    expect((await mycr(["rm", name])).exitCode).toBe(0);
  }
}, 120_000);

test("the first run -d with --rm, --restart, -i and -t: as with a started supervisor", async () => {
  const removed = uniqueName("first-rm");
  await firstRunD(["--rm", "--name", removed, "--rootfs", rootfs, "--", "sh", "-c", "sleep 0.2"]);
  await until(async () => (await mycr(["inspect", removed])).exitCode !== 0, 10_000, "--rm removed it");

  const restarted = uniqueName("first-restart");
  await firstRunD(["--restart", "on-failure:2", "--name", restarted, "--rootfs", rootfs, "--", "sh", "-c", "echo try; exit 1"]);
  await until(async () => (await inspect(restarted)).State.Status === "exited", 20_000, "the restarts end");
  const info = await inspect(restarted);
  expect(info.RestartCount).toBe(2);
  expect(info.State.ExitCode).toBe(1);
  expect((await mycr(["logs", restarted])).stdout).toBe("try\ntry\ntry\n");

  // -i: attach right away (the supervisor may not listen yet: attach waits for it)
  const interactive = uniqueName("first-i");
  await firstRunD(["-i", "--name", interactive, "--rootfs", rootfs, "--", "sh", "-c", "read line; echo got:$line; exit 4"]);
  const r = await mycr(["attach", interactive], { stdin: "hello\n" });
  expect(r.stdout).toBe("got:hello\n");
  expect(r.exitCode).toBe(4);

  // -t: the container's terminal is copied into the log
  const terminal = uniqueName("first-t");
  await firstRunD(["-t", "--name", terminal, "--rootfs", rootfs, "--", "sh", "-c", "tty; echo done"]);
  expect((await mycr(["wait", terminal])).stdout.trim()).toBe("0");
  await until(async () => (await mycr(["logs", terminal])).stdout.includes("done"), 10_000, "the terminal's output in the log");
  expect((await mycr(["logs", terminal])).stdout).toMatch(/^\/dev\/(pts\/\d+|console)\r?\n/);
}, 120_000);

test("concurrent first run -d: one hands its container over, the others use that supervisor; a refused one leaves none", async () => {
  for (let round = 0; round < 3; round++) {
    await until(() => supervisors().length === 0, 15_000, "no supervisor of ours runs");
    const names = [0, 1, 2, 3].map(() => uniqueName("first-many"));
    const runs = await Promise.all(names.map((name) => mycr(["run", "-d", "--name", name, "--rootfs", rootfs, "--network", "none", "--", "sleep", "60"], { env: { MYCR_TRACE: "1" }, timeoutMs: 60_000 })));
    for (const r of runs) expect(r.exitCode).toBe(0);
    expect(runs.filter((r) => r.stderr.includes("adopt: handed over")).length).toBe(1);
    const infos = await Promise.all(names.map(inspect));
    const [supervisor] = supervisors();
    expect(supervisors()).toEqual([supervisor!]);
    for (const i of infos) {
      expect(i.Monitor).toBe(supervisor!);
      expect(ppid(i.State.Pid)).toBe(supervisor!);
    }
    expect((await mycr(["rm", "-f", ...names])).exitCode).toBe(0);
    await until(() => !alive(supervisor!), 10_000, "the supervisor exits after the last container");
  }
  // Refused by the CLI, and a foreground run whose command has a -d: no supervisor at all.
  const bad = await mycr(["run", "-d", "--rootfs", rootfs, "--hostname", "a/b", "--", "true"]);
  expect(bad.exitCode).toBe(125);
  const foreground = await mycr(["run", "--rootfs", rootfs, "--network", "none", "sh", "-c", "echo $0", "-d"]);
  expect(foreground.stdout).toBe("-d\n");
  expect(supervisors()).toEqual([]);
}, 180_000);

test("a first run -d that cannot exec its command: the error, exit code 127, nothing kept", async () => {
  const name = uniqueName("first-bad");
  const r = await mycr(["run", "-d", "--name", name, "--rootfs", rootfs, "--", "no-such-program"], { env: { MYCR_TRACE: "1" } });
  expect(r.exitCode).toBe(127);
  expect(r.stderr).toContain('"no-such-program": executable file not found in $PATH');
  expect(r.stderr).toContain("adopt: locks taken");
  expect((await mycr(["inspect", name])).exitCode).not.toBe(0);
  await until(() => supervisors().length === 0, 10_000, "no supervisor stays");
});

test("a first run -d SIGKILLed at any moment: its container goes with it, rm -f removes the rest (repeatedly)", async () => {
  for (let round = 0; round < 12; round++) {
    await until(() => supervisors().length === 0, 15_000, "no supervisor of ours runs");
    const name = uniqueName("first-killed");
    const marker = `first-killed-${process.pid}-${round}`;
    const client = mycrBackground(["run", "-d", "--name", name, "--rootfs", rootfs, "--network", "none", "--", "sh", "-c", `sleep 60; echo ${marker}`]);
    await Bun.sleep(round * 8);
    client.proc.kill("SIGKILL");
    await client.proc.exited;
    // Killed before the hand-over: the keeper kills the container; after it: it is kept.
    await until(() => {
      const kept = supervisors().length > 0;
      const running = Bun.spawnSync(["pgrep", "-f", marker]).stdout.toString().trim() !== "";
      return kept || !running;
    }, 10_000, "the container goes with its client, or is kept by a supervisor");
    await mycr(["rm", "-f", name]);
    await until(() => Bun.spawnSync(["pgrep", "-f", marker]).stdout.toString().trim() === "", 10_000, "no process of the container is left");
  }
  await until(() => supervisors().length === 0, 10_000, "no supervisor stays");
  const gc = await mycr(["gc"]);
  expect(gc.exitCode).toBe(0);
}, 180_000);

const havePlugins = ["/usr/lib/cni/bridge", "/opt/cni/bin/bridge"].some((p) => Bun.file(p).size > 0);

test.if(havePlugins)("a first run -d container on a user network: a peer that joins after its client exited finds it by name", async () => {
  const net = `first${process.pid % 10000}`;
  expect((await mycr(["network", "create", "--subnet", `10.96.${process.pid % 200}.0/24`, net])).exitCode).toBe(0);
  try {
    const first = uniqueName("first-net");
    await firstRunD(["--name", first, "--network", net, "--rootfs", rootfs, "--", "sleep", "60"]);
    const peer = uniqueName("first-peer");
    const r = await mycr(["run", "--rm", "--name", peer, "--network", net, "--rootfs", rootfs, "--", "sh", "-c", `ping -c 1 -W 1 ${first} | head -1`]);
    expect(r.stdout).toMatch(new RegExp(`^PING ${first} \\(10\\.96\\.`));
    expect((await mycr(["rm", "-f", first])).exitCode).toBe(0);
  } finally {
    await mycr(["network", "rm", net]);
  }
}, 60_000);

test("a ^C (SIGINT to its process group) at any moment of a first run -d: when it printed an id, the container runs (repeatedly)", async () => {
  for (let round = 0; round < 12; round++) {
    await until(() => supervisors().length === 0, 15_000, "no supervisor of ours runs");
    const name = uniqueName("first-int");
    // setsid: the client leads a process group of its own, as a shell's foreground job does
    const client = Bun.spawn(["setsid", MYCR, "run", "-d", "--name", name, "--rootfs", rootfs, "--network", "none", "--", "sleep", "60"], { env: mycrEnv(), stdout: "pipe", stderr: "pipe" });
    await Bun.sleep(round * 8);
    try {
      process.kill(-client.pid, "SIGINT");
    } catch {
      // the group is gone: the client has exited
    }
    const printed = (await new Response(client.stdout).text()).trim();
    if ((await client.exited) === 0 && /^[0-9a-f]{64}$/.test(printed)) {
      const info = await inspect(name);
      expect(info.State.Status).toBe("running");
      expect(ppid(info.State.Pid)).toBe(info.Monitor);
    }
    await mycr(["rm", "-f", name]);
  }
  await until(() => supervisors().length === 0, 10_000, "no supervisor stays");
  // a client the ^C ended mid-start left its runtime state for gc, as any killed mycr does
  expect((await mycr(["gc"])).exitCode).toBe(0);
}, 180_000);

test("MYCR_ADOPT=0: the first run -d starts a supervisor the usual way, which starts the container", async () => {
  await until(() => supervisors().length === 0, 15_000, "no supervisor of ours runs");
  const name = uniqueName("first-spawned");
  const r = await mycr(["run", "-d", "--name", name, "--rootfs", rootfs, "--network", "none", "--", "sh", "-c", "echo spawned; sleep 60"], { env: { MYCR_TRACE: "1", MYCR_ADOPT: "0" } });
  expect(r.exitCode).toBe(0);
  expect(r.stderr).not.toContain("adopt:");
  expect(r.stderr).toContain("supervisor: started");
  const info = await inspect(name);
  expect(ppid(info.State.Pid)).toBe(info.Monitor);
  await until(async () => (await mycr(["logs", name])).stdout === "spawned\n", 10_000, "the output in the log");
  expect((await mycr(["rm", "-f", name])).exitCode).toBe(0);
  await until(() => supervisors().length === 0, 10_000, "the supervisor exits after its container");
});

test("a first run -d that Bun's init starts (-u, --init): the usual way, no container started twice", async () => {
  for (const flags of [["-u", "1000"], ["--init"]]) {
    await until(() => supervisors().length === 0, 15_000, "no supervisor of ours runs");
    const name = uniqueName("first-bun-init");
    const r = await mycr(["run", "-d", ...flags, "--name", name, "--rootfs", rootfs, "--network", "none", "--", "sh", "-c", "id -u; sleep 60"], { env: { MYCR_TRACE: "1" } });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toContain("adopt:");
    const info = await inspect(name);
    expect(ppid(info.State.Pid)).toBe(info.Monitor);
    await until(async () => (await mycr(["logs", name])).stdout.startsWith(flags[0] === "-u" ? "1000\n" : "0\n"), 10_000, "the output in the log");
    expect((await mycr(["rm", "-f", name])).exitCode).toBe(0);
  }
  await until(() => supervisors().length === 0, 10_000, "no supervisor stays");
});
