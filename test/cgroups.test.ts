// Resource limits on this host's cgroups (hybrid here: v1 controllers, empty cgroup2;
// pure v2 is covered by test/vm). Every flag is read back and, where it can be, observed.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { hostCgroups } from "../src/cgroups/hierarchy";
import { missingController } from "../src/cgroups";
import { mycr, mycrBackground } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";
import { waitForContainerPid } from "./helpers/containers";

let rootfs: string;
beforeAll(() => {
  rootfs = busyboxRootfs();
});

const run = (flags: string[], script: string) => mycr(["run", "--rootfs", rootfs, ...flags, "--", "sh", "-c", script]);
const host = hostCgroups();
const v1 = host.mode !== "v2";

/** Reads a cgroup file from inside the container (its /sys/fs/cgroup shows its own cgroup). */
function inside(controller: string, file: string): string {
  return v1 ? `cat /sys/fs/cgroup/${controller}/${file}` : `cat /sys/fs/cgroup/${file}`;
}

describe("limits are written to the container's cgroup", () => {
  test("--memory, --memory-reservation and the default of no extra swap", async () => {
    const r = await run(
      ["--memory", "64m", "--memory-reservation", "32m"],
      v1
        ? `${inside("memory", "memory.limit_in_bytes")}; ${inside("memory", "memory.soft_limit_in_bytes")}; ${inside("memory", "memory.memsw.limit_in_bytes")}`
        : `${inside("memory", "memory.max")}; ${inside("memory", "memory.low")}; ${inside("memory", "memory.swap.max")}`,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(v1 ? ["67108864", "33554432", "67108864"] : ["67108864", "33554432", "0"]);
  });

  test("--memory-swap is memory plus swap; -1 leaves swap unlimited", async () => {
    const file = v1 ? inside("memory", "memory.memsw.limit_in_bytes") : inside("memory", "memory.swap.max");
    const r = await run(["--memory", "64m", "--memory-swap", "128m"], file);
    expect(r.stdout.trim()).toBe(v1 ? "134217728" : "67108864");
    const unlimited = await run(["--memory", "64m", "--memory-swap", "-1"], file);
    expect(unlimited.stdout.trim()).toBe(v1 ? "9223372036854771712" : "max");
  });

  test("--cpus sets the CFS quota for the default period", async () => {
    const r = await run(["--cpus", "1.5"], v1 ? `${inside("cpu", "cpu.cfs_quota_us")}; ${inside("cpu", "cpu.cfs_period_us")}` : inside("cpu", "cpu.max"));
    expect(r.stdout.trim().split("\n")).toEqual(v1 ? ["150000", "100000"] : ["150000 100000"]);
  });

  test("--cpu-shares (v2: converted to cpu.weight as runc does)", async () => {
    const r = await run(["--cpu-shares", "512"], v1 ? inside("cpu", "cpu.shares") : inside("cpu", "cpu.weight"));
    expect(r.stdout.trim()).toBe(v1 ? "512" : "20");
  });

  test("--cpuset-cpus and --cpuset-mems", async () => {
    const r = await run(["--cpuset-cpus", "1", "--cpuset-mems", "0"], `${inside("cpuset", "cpuset.cpus")}; ${inside("cpuset", "cpuset.mems")}; grep Cpus_allowed_list /proc/self/status`);
    const [cpus, mems, allowed] = r.stdout.trim().split("\n");
    expect(cpus).toBe("1");
    expect(mems).toBe("0");
    expect(allowed).toMatch(/Cpus_allowed_list:\s+1$/);
  });

  test("--pids-limit", async () => {
    const r = await run(["--pids-limit", "64"], inside("pids", "pids.max"));
    expect(r.stdout.trim()).toBe("64");
  });

  test("--blkio-weight", async () => {
    const file = v1 ? "cat /sys/fs/cgroup/blkio/blkio.weight 2>/dev/null || cat /sys/fs/cgroup/blkio/blkio.bfq.weight" : "cat /sys/fs/cgroup/io.bfq.weight 2>/dev/null || cat /sys/fs/cgroup/io.weight";
    const r = await run(["--blkio-weight", "300"], file);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toMatch(/^(300|default \d+)$/);
  });

  test("--oom-score-adj", async () => {
    const r = await run(["--oom-score-adj", "500"], "cat /proc/self/oom_score_adj");
    expect(r.stdout.trim()).toBe("500");
  });
});

describe("the container's view of its cgroup", () => {
  test("a cgroup namespace rooted at the container's cgroup", async () => {
    const r = await run([], "cat /proc/self/cgroup");
    const lines = r.stdout.trim().split("\n");
    expect(lines).toContain("0::/");
    if (v1) expect(lines.some((l) => /^\d+:memory:\/$/.test(l))).toBe(true);
  });

  test("/sys/fs/cgroup is read-only and shows the container's own limits", async () => {
    const r = await run(["--memory", "80m"], `${inside("memory", v1 ? "memory.limit_in_bytes" : "memory.max")}; touch /sys/fs/cgroup/x 2>/dev/null || echo read-only; grep ' /sys/fs/cgroup' /proc/self/mounts | grep -c ' ro,'`);
    const [limit, ro, roMounts] = r.stdout.trim().split("\n");
    expect(limit).toBe(String(80 * 1024 * 1024));
    expect(ro).toBe("read-only");
    expect(Number(roMounts)).toBeGreaterThan(0);
  });

  test("the container's processes sit in a cgroup of their own, seen from the host", async () => {
    const marker = `1000.${process.pid}5`;
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--memory", "50m", "--", "sleep", marker]);
    const pid = await waitForContainerPid(marker);
    const cgroups = readFileSync(`/proc/${pid}/cgroup`, "utf8");
    const mine = readFileSync("/proc/self/cgroup", "utf8");
    const memLine = (t: string) => t.split("\n").find((l) => (v1 ? /:memory:/.test(l) : l.startsWith("0::")))!.split(":")[2]!;
    expect(memLine(cgroups)).toMatch(/\/mycr\/[0-9a-f]{64}$/);
    expect(memLine(cgroups).startsWith(memLine(mine).replace(/\/$/, ""))).toBe(true);
    const dir = v1 ? `/sys/fs/cgroup/memory${memLine(cgroups)}` : `${host.unified}${memLine(cgroups)}`;
    expect(readFileSync(`${dir}/${v1 ? "memory.limit_in_bytes" : "memory.max"}`, "utf8").trim()).toBe(String(50 * 1024 * 1024));
    process.kill(pid, "SIGKILL");
    await bg.result();
    expect(existsSync(dir)).toBe(false);
  });
});

describe("limits take effect", () => {
  test("a container that exceeds its memory is OOM-killed, and mycr says so", async () => {
    // busybox tail keeps all of an endless line in memory
    const r = await mycr(["run", "--rootfs", rootfs, "--memory", "64m", "--", "tail", "/dev/zero"]);
    expect(r.exitCode).toBe(137);
    expect(r.stderr).toMatch(/^mycr: container [0-9a-f]{12} was killed: out of memory \(limit 64 MiB\)\n$/);
  });

  test("a SIGKILL from outside is not reported as out of memory", async () => {
    const marker = `1000.${process.pid}6`;
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--memory", "64m", "--", "sh", "-c", `echo up; exec sleep ${marker}`]);
    await bg.waitFor("up");
    process.kill(await waitForContainerPid(`sleep ${marker}`, 10_000, true), "SIGKILL");
    const r = await bg.result();
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(137);
  });

  test("a fork bomb under --pids-limit 64 fails inside while the host stays responsive", async () => {
    const marker = `2.${process.pid}7`;
    // PID 1 starts the bomb, then becomes `sleep` without forking; when it exits the
    // kernel ends the whole PID namespace.
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--pids-limit", "64", "--", "sh", "-c", `bomb() { bomb | bomb & }; bomb; exec sleep ${marker}`]);
    // PID 1 once it is `sleep` (the bomb's shells carry the marker in their command line too)
    const pid = await waitForContainerPid(`sleep ${marker}`, 10_000, true);
    await Bun.sleep(500);
    const cg = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
    const pidsDir = v1 ? `/sys/fs/cgroup/pids${cg.find((l) => /:pids:/.test(l))!.split(":")[2]}` : `${host.unified}${cg.find((l) => l.startsWith("0::"))!.slice(3)}`;
    expect(Number(readFileSync(`${pidsDir}/pids.current`, "utf8"))).toBeLessThanOrEqual(64);
    const start = performance.now();
    expect(Bun.spawnSync(["true"]).exitCode).toBe(0);
    expect(performance.now() - start).toBeLessThan(2000);
    const r = await bg.result();
    expect(r.stderr).toContain("can't fork");
    expect(r.exitCode).toBe(0);
  });

  test("--cpus 0.5 holds a busy loop to about half a CPU", async () => {
    const usage = v1 ? "cat /sys/fs/cgroup/cpuacct/cpuacct.usage" : "echo $(( $(grep usage_usec /sys/fs/cgroup/cpu.stat | cut -d' ' -f2) * 1000 ))";
    // /proc/uptime: wall time in centiseconds without needing date +%N
    const now = "read up _ < /proc/uptime; echo ${up%.*}${up#*.}";
    const r = await run(["--cpus", "0.5"], `a=$(${usage}); s=$(${now}); (while :; do :; done) & sleep 2; kill $!; b=$(${usage}); e=$(${now}); echo $(( (b - a) / 100000 / (e - s) ))`);
    const percent = Number(r.stdout.trim());
    expect(percent).toBeGreaterThan(30);
    expect(percent).toBeLessThan(65);
  });
});

describe("mycr stats", () => {
  test("reads memory usage and limit, CPU time and pids from the cgroup", async () => {
    const bg = mycrBackground(["run", "--rootfs", rootfs, "--memory", "100m", "--pids-limit", "20", "--", "sh", "-c", "echo ready; while :; do :; done"]);
    await bg.waitFor("ready");
    const { readdirSync } = await import("node:fs");
    const { TEST_STATE } = await import("./helpers/env");
    const id = readdirSync(TEST_STATE)[0]!;
    const r = await mycr(["stats", "--no-stream", "--format", "json", id.slice(0, 8)]);
    expect(r.exitCode).toBe(0);
    const s = JSON.parse(r.stdout.split("\n")[0]!); // one object a line, as docker's
    expect(s.id).toBe(id);
    expect(s.memoryLimit).toBe(100 * 1024 * 1024);
    expect(s.memoryUsage).toBeGreaterThan(0);
    expect(s.pids).toBeGreaterThanOrEqual(1);
    expect(s.pidsLimit).toBe(20);
    expect(s.cpuPercent).toBeGreaterThan(50); // the busy loop
    const table = await mycr(["stats", "--no-stream", id.slice(0, 12)]);
    expect(table.stdout).toContain("CONTAINER ID");
    expect(table.stdout).toContain(id.slice(0, 12));
    expect(table.stdout).toContain("/ 100 MiB");
    bg.proc.kill("SIGKILL");
    await bg.result();
    await mycr(["gc"]);
  });

  test("an unknown container is a clear error", async () => {
    const r = await mycr(["stats", "--no-stream", "ffffffffffff"]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toBe('mycr: container "ffffffffffff" does not exist\n');
  });
});

describe("bad input: one line, exit 125", () => {
  const cases: Array<[string[], string]> = [
    [["--memory", "12x"], "--memory 12x: not a size (use a number with an optional unit b, k, m, g: 512m, 1.5g)"],
    [["--memory", "1m"], "--memory 1m: the minimum is 6m"],
    [["--memory-swap", "10m"], "--memory-swap needs --memory (it is the total of memory and swap)"],
    [["--memory", "64m", "--memory-swap", "32m"], "--memory-swap 32m: must be at least --memory (it counts memory plus swap), or -1"],
    [["--cpus", "0"], "--cpus 0: must be a number greater than 0, such as 1.5"],
    [["--cpus", "abc"], "--cpus abc: must be a number greater than 0, such as 1.5"],
    [["--cpuset-cpus", "0-99"], `--cpuset-cpus 0-99: this host has CPUs ${readFileSync("/sys/devices/system/cpu/online", "utf8").trim() === "0-1" ? "0,1" : ""}`],
    [["--cpuset-cpus", "3-1"], "--cpuset-cpus 3-1: 3-1 is a backwards range"],
    [["--pids-limit", "many"], "--pids-limit many: not an integer"],
    [["--blkio-weight", "5"], "--blkio-weight 5: must be between 10 and 1000"],
    [["--cpu-shares", "1"], "--cpu-shares 1: must be between 2 and 262144"],
    [["--oom-score-adj", "2000"], "--oom-score-adj 2000: must be between -1000 and 1000"],
  ];
  for (const [flags, message] of cases) {
    test(flags.join(" "), async () => {
      const r = await mycr(["run", "--rootfs", rootfs, ...flags, "true"]);
      expect(r.exitCode).toBe(125);
      expect(r.stderr.startsWith(`mycr: ${message}`)).toBe(true);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    });
  }

  test("a controller the host lacks is named, with the flag", () => {
    const noCpuset = new Set(["cpu", "memory", "pids", "io"]);
    const missing = missingController({ cpu: { cpus: "0" } }, { ...host, mode: "v2" }, noCpuset);
    expect(missing).toEqual({ field: "cpu.cpus", controller: "cpuset" });
    expect(missingController({ memory: { limit: 1 << 26 } }, { ...host, mode: "v2" }, noCpuset)).toBeNull();
  });
});

describe("a cgroupsPath of several levels (OCI face)", () => {
  test("delete removes the levels mycr made for the container, and only those", async () => {
    const { makeBundle, uniqueId } = await import("./helpers/bundle");
    const { mkdirSync, rmdirSync } = await import("node:fs");
    const host = hostCgroups();
    const pidsRoot = host.mode === "v2" ? host.unified! : host.v1.find((h) => h.controllers.includes("pids"))!.mount;
    const top = `mycr-levels-${process.pid}`;
    // "kept" existed before the container: it is not mycr's to remove.
    mkdirSync(`${pidsRoot}/${top}-kept`);
    try {
      for (const [path, made] of [
        [`${top}/a/b/c`, [`${top}`, `${top}/a`, `${top}/a/b`]],
        [`${top}-kept/x/y`, [`${top}-kept/x`]],
      ] as Array<[string, string[]]>) {
        const bundle = await makeBundle(["sleep", "100"], (s) => {
          s.linux!.cgroupsPath = path;
        });
        const id = uniqueId("levels");
        expect((await mycr(["create", "--bundle", bundle, id], { leavesContainer: true })).exitCode).toBe(0);
        for (const dir of [...made, path]) expect(existsSync(`${pidsRoot}/${dir}`)).toBe(true);
        expect((await mycr(["delete", "--force", id])).exitCode).toBe(0);
        for (const dir of [...made, path]) expect({ dir, exists: existsSync(`${pidsRoot}/${dir}`) }).toEqual({ dir, exists: false });
      }
      expect(existsSync(`${pidsRoot}/${top}-kept`)).toBe(true);
    } finally {
      rmdirSync(`${pidsRoot}/${top}-kept`);
    }
  });
});
