// Foreground runs served by the supervisor (docs/run.md, "Runs served by the
// supervisor"): with a detached container up, `mycr run` asks the supervisor to run
// its container, with the client's words, environment, directory, stdio and signals.
// What a user sees must not change: output, exit status, messages, signals, cleanup.
// A client the container would not come out the same for (other namespaces, fewer
// capabilities, other limits, other variables) is declined and runs its container itself.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCR, TEST_ROOT, WORK, mycrEnv } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";
import { alive, waitForContainerPid } from "./helpers/containers";

let rootfs: string;
const keeper = `served-keeper-${process.pid}`;
const dir = join(WORK, `served-${process.pid}`);

beforeAll(async () => {
  rootfs = busyboxRootfs();
  mkdirSync(join(dir, "vol"), { recursive: true });
  writeFileSync(join(dir, "vol/f"), "from the volume\n");
  const r = await mycr(["run", "-d", "--name", keeper, "--rootfs", rootfs, "--network", "none", "--", "sleep", "600"], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`keeper: ${r.stderr}`);
  // The first run -d returns once its container runs; the supervisor made for it listens a little later.
  const deadline = Date.now() + 10_000;
  while (!existsSync(join(TEST_ROOT, "supervisor.sock")) && Date.now() < deadline) await Bun.sleep(10);
});
afterAll(async () => {
  await mycr(["rm", "-f", keeper], { timeoutMs: 60_000 });
  rmSync(dir, { recursive: true, force: true });
});

/** The supervisor of our MYCR_ROOT. */
function supervisorPid(): number {
  const r = Bun.spawnSync(["pgrep", "-f", `^${MYCR} supervisor$`]);
  for (const pid of r.stdout.toString().split("\n").filter(Boolean).map(Number)) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`MYCR_ROOT=${TEST_ROOT}`)) return pid;
    } catch {
      // gone
    }
  }
  throw new Error("no supervisor runs");
}

function ppid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** What the client's trace said of the supervisor: "exit", "declined (why)", or "" when it found none. */
  served: string;
}

/** `mycr run ARGS` from `cwd`, under `prefix` (unshare, setpriv...), traced: the trace says whether it was served. */
async function run(args: string[], opts: { stdin?: string; env?: Record<string, string>; cwd?: string; prefix?: string[]; command?: string[] } = {}): Promise<Run> {
  const proc = Bun.spawn([...(opts.prefix ?? []), MYCR, ...(opts.command ?? ["run"]), ...args], {
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    cwd: opts.cwd ?? dir,
    env: mycrEnv({ MYCR_TRACE: "1", ...opts.env }),
  });
  const timer = setTimeout(() => proc.kill(9), 60_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const exitCode = await proc.exited;
  clearTimeout(timer);
  const lines = stderr.split("\n");
  const served = lines.map((l) => /^mycr\[\d+\] \S+ cpu \S+ served: (exit|declined.*|closed)$/.exec(l)?.[1]).find(Boolean) ?? "";
  return { exitCode, stdout, stderr: lines.filter((l) => !/^mycr\[\d+\] /.test(l)).join("\n"), served };
}

const flags = () => ["--rootfs", rootfs, "--network", "none"];

test("a run with the supervisor up is served by it: the same output, stdin, messages and exit status", async () => {
  const r = await run([...flags(), "--", "sh", "-c", "echo out; cat; echo err >&2; exit 7"], { stdin: "in\n" });
  expect(r.served).toBe("exit");
  expect(r.stdout).toBe("out\nin\n");
  expect(r.stderr).toBe("err\n");
  expect(r.exitCode).toBe(7);
  // mycr's own messages reach the client's stderr, one line each, and its exit codes stay
  const missing = await run([...flags(), "--", "/no/such/program"]);
  expect(missing.served).toBe("exit");
  expect(missing.exitCode).toBe(127);
  expect(missing.stderr).toMatch(/^mycr: .*\/no\/such\/program/);
  const bad = await run([...flags(), "--memory", "lots", "--", "true"]);
  expect(bad.served).toBe("exit");
  expect(bad.exitCode).toBe(125);
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  expect(bad.stderr).toMatch(/^mycr: .*--memory/);
  // nothing of either is left: no record, no name taken
  expect((await mycr(["ps", "-a", "--format", "{{.Names}}"])).stdout.trim()).toBe(keeper);
});

test("a served run takes the client's words, environment and directory", async () => {
  writeFileSync(join(dir, "env-list"), "FROM_FILE=yes\nPASSED\n");
  const r = await run(
    [...flags(), "-e", "PASSED", "-e", "GIVEN=x y", "--env-file", join(dir, "env-list"), "-v", "./vol:/mnt", "-w", "/mnt", "--", "sh", "-c", 'echo "$PASSED|$GIVEN|$FROM_FILE"; cat f; pwd; echo "$1"', "sh", "ünï\tcode"],
    { env: { PASSED: "from the client" } },
  );
  expect(r.served).toBe("exit");
  expect(r.stdout).toBe("from the client|x y|yes\nfrom the volume\n/mnt\nünï\tcode\n");
  expect(r.exitCode).toBe(0);
});

test("served runs at once keep their own stdio, words and exit status", async () => {
  const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => run([...flags(), "-e", `N=${i}`, "--", "sh", "-c", `cat; echo "$N" >&2; exit ${i}`], { stdin: `in ${i}\n` })));
  runs.forEach((r, i) => {
    expect(r.served).toBe("exit");
    expect(r.stdout).toBe(`in ${i}\n`);
    expect(r.stderr).toBe(`${i}\n`);
    expect(r.exitCode).toBe(i);
  });
  expect((await mycr(["ps", "-a", "--format", "{{.Names}}"])).stdout.trim()).toBe(keeper);
});

test("a served container is the supervisor's child, gets the client's signals, and dies with a killed client", async () => {
  const supervisor = supervisorPid();
  const marker = `served-signal-${process.pid}`;
  const proc = Bun.spawn([MYCR, "run", ...flags(), "--", "sh", "-c", `trap 'echo got TERM; exit 3' TERM; while :; do sleep 0.1; done; : ${marker}`], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: mycrEnv(),
  });
  const pid = await waitForContainerPid(marker);
  expect(ppid(pid)).toBe(supervisor);
  await Bun.sleep(200); // the trap is set
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(3);
  expect(await new Response(proc.stdout).text()).toBe("got TERM\n");

  const killed = `served-killed-${process.pid}`;
  const client = Bun.spawn([MYCR, "run", ...flags(), "--", "sh", "-c", `while :; do sleep 0.1; done; : ${killed}`], { stdin: "ignore", stdout: "ignore", stderr: "ignore", env: mycrEnv() });
  const victim = await waitForContainerPid(killed);
  client.kill("SIGKILL");
  await client.exited;
  const deadline = Date.now() + 10_000;
  while (alive(victim) && Date.now() < deadline) await Bun.sleep(20);
  expect(alive(victim)).toBe(false);
  // and it is cleaned up as a finished run is: only the keeper is left
  while ((await mycr(["ps", "-a", "--format", "{{.Names}}"])).stdout.trim() !== keeper && Date.now() < deadline) await Bun.sleep(50);
  expect((await mycr(["ps", "-a", "--format", "{{.Names}}"])).stdout.trim()).toBe(keeper);
  expect(alive(supervisor)).toBe(true);
});

test("a client in other namespaces, with fewer capabilities, other limits or other variables is never served (tried repeatedly)", async () => {
  for (let round = 0; round < 3; round++) {
    // --network host means the client's network: a new one holds only lo
    const netns = await run(["--rootfs", rootfs, "--network", "host", "--", "cat", "/proc/net/dev"], { prefix: ["unshare", "-n"] });
    expect(netns.served).toStartWith("declined (not the supervisor's: net namespace");
    expect(netns.exitCode).toBe(0);
    expect(netns.stdout).toContain("lo:");
    expect(netns.stdout).not.toContain("eth");

    // a bounding set without CAP_SYS_ADMIN: the supervisor's full one must not lend it
    const capless = await run([...flags(), "--cap-add", "SYS_ADMIN", "--", "true"], { prefix: ["setpriv", "--bounding-set", "-sys_admin", "--"] });
    expect(capless.served).toStartWith("declined (not the supervisor's: Cap");

    const limited = await run([...flags(), "--", "sh", "-c", "ulimit -c"], { prefix: ["prlimit", "--core=1024:1024", "--"] });
    expect(limited.served).toBe("declined (not the supervisor's: limits)");
    expect(limited.exitCode).toBe(0);

    const otherInit = await run([...flags(), "--", "true"], { env: { MYCR_INIT: "bun" } });
    expect(otherInit.served).toBe("declined (not the supervisor's: MYCR_INIT)");
    expect(otherInit.exitCode).toBe(0);

    // a relative path read while the flags are checked: left to the client, whose directory it means
    const relative = await run([...flags(), "--env-file", "env-list", "--", "sh", "-c", "echo $FROM_FILE"]);
    expect(relative.served).toBe("declined (a relative path in --env-file)");
    expect(relative.stdout).toBe("yes\n");
  }
  expect((await mycr(["ps", "-a", "--format", "{{.Names}}"])).stdout.trim()).toBe(keeper);
});

test("run -d with the supervisor up is served too: the id printed, the client's environment and directory, errors on its stderr", async () => {
  const name = `served-d-${process.pid}`;
  const r = await run(["-d", "--name", name, ...flags(), "-e", "PASSED", "-v", "./vol:/mnt", "--", "sh", "-c", 'echo "$PASSED"; cat /mnt/f; sleep 600'], { env: { PASSED: "to the log" } });
  expect(r.served).toBe("exit");
  expect(r.exitCode).toBe(0);
  expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
  const deadline = Date.now() + 10_000;
  let logs = "";
  while (!logs.includes("from the volume") && Date.now() < deadline) {
    logs = (await mycr(["logs", name])).stdout;
    await Bun.sleep(50);
  }
  expect(logs).toBe("to the log\nfrom the volume\n");
  const taken = await run(["-d", "--name", name, ...flags(), "--", "true"]);
  expect(taken.served).toBe("exit");
  expect(taken.exitCode).toBe(125);
  expect(taken.stderr).toMatch(new RegExp(`^mycr: .*${name}.*\n$`));
  expect(taken.stdout).toBe("");
  expect((await mycr(["rm", "-f", name])).exitCode).toBe(0);
});

test("docker's word order is served too: mycr container run IMAGE COMMAND", async () => {
  const image = `localhost/served-bb-${process.pid}:1`;
  const tar = join(dir, "bb.tar");
  expect(Bun.spawnSync(["tar", "-C", rootfs, "-cf", tar, "."]).exitCode).toBe(0);
  expect((await mycr(["import", tar, image], { timeoutMs: 60_000 })).exitCode).toBe(0);
  try {
    const r = await run(["--network", "none", "-e", "X=1", image, "sh", "-c", "echo from the image $X; exit 4"], { command: ["container", "run"] });
    expect(r.served).toBe("exit");
    expect(r.stdout).toBe("from the image 1\n");
    expect(r.exitCode).toBe(4);
    const none = await run(["--network", "none"], { command: ["container", "run"] });
    expect(none.served).toBe("declined (no image (the client says so))");
    expect(none.exitCode).toBe(125);
    expect(none.stderr).toContain("needs an image");
  } finally {
    await mycr(["rmi", image]);
  }
});

test("with no supervisor, or for -t and --bundle, a run is its own process as before", async () => {
  const tty = await run([...flags(), "-t", "--", "true"]);
  expect(tty.served).toBe("declined (-t: a terminal)");
  expect(tty.exitCode).toBe(0);
  await mycr(["rm", "-f", keeper], { timeoutMs: 60_000 });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      supervisorPid();
      await Bun.sleep(50);
    } catch {
      break;
    }
  }
  const alone = await run([...flags(), "--", "sh", "-c", "echo alone"]);
  expect(alone.served).toBe("");
  expect(alone.stdout).toBe("alone\n");
});
