// Issue 15: every config.json field is applied or refused, never accepted and ignored.
// Fields applied since are read back here, from inside the container or from the
// kernel; refused ones give one line naming the field, exit 125, and leave nothing:
// no state directory, no cgroup. What this host's kernel lacks (CFQ/BFQ weights,
// net_cls, hugetlb, AppArmor...) is checked against the kernel's own files, so each
// test asserts the applied value where the host has the file and the refusal where not.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cgroupsOf } from "../src/cgroups";
import type { Spec } from "../src/spec/types";
import { REPO, TEST_STATE } from "./helpers/env";
import { makeBundle, uniqueId } from "./helpers/bundle";
import { mycr } from "./helpers/mycr";

async function runWith(script: string, adjust: (spec: Spec) => void): Promise<{ exitCode: number; stdout: string; stderr: string; id: string }> {
  const bundle = await makeBundle(["sh", "-c", script], adjust);
  const id = uniqueId("fld");
  return { ...(await mycr(["run", "--bundle", bundle, id])), id };
}

/** The outcome a refusal must have: one line naming `field`, 125, nothing left. */
async function expectRefused(r: { exitCode: number; stderr: string; id: string }, field: string): Promise<void> {
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toStartWith("mycr: ");
  expect(r.stderr).toContain(field);
  expect(r.exitCode).toBe(125);
  expect(existsSync(join(TEST_STATE, r.id))).toBe(false);
  expect(cgroupsOf(r.id)).toEqual([]);
}

/** A real block device's "MAJ:MIN": the host disk if there is one, else a loop device. */
function blockDevice(): { major: number; minor: number } {
  const names = readdirSync("/sys/block").sort((a, b) => Number(a.startsWith("loop") || a.startsWith("zram")) - Number(b.startsWith("loop") || b.startsWith("zram")));
  const [major, minor] = readFileSync(`/sys/block/${names[0]}/dev`, "utf8").trim().split(":").map(Number) as [number, number];
  return { major, minor };
}

const V1 = "/sys/fs/cgroup";
/**
 * Whether a cgroup below the root has `file`: some files (BFQ's) exist only there.
 * Asked of the kernel with a probe cgroup of our own.
 */
function childHas(controller: string, file: string): boolean {
  const probe = join(V1, controller, `oci-fields-probe-${process.pid}`);
  mkdirSync(probe, { recursive: true });
  try {
    return existsSync(join(probe, file));
  } finally {
    rmdirSync(probe);
  }
}

describe("linux.resources.blockIO", () => {
  test("throttles (read/write bps and IOPS) are in the kernel's blkio.throttle files", async () => {
    const dev = blockDevice();
    const files = ["read_bps_device", "write_bps_device", "read_iops_device", "write_iops_device"].map((f) => `/sys/fs/cgroup/blkio/blkio.throttle.${f}`);
    const r = await runWith(`cat ${files.join(" ")}`, (s) => {
      s.linux!.resources = {
        blockIO: {
          throttleReadBpsDevice: [{ ...dev, rate: 1048576 }],
          throttleWriteBpsDevice: [{ ...dev, rate: 2097152 }],
          throttleReadIOPSDevice: [{ ...dev, rate: 100 }],
          throttleWriteIOPSDevice: [{ ...dev, rate: 200 }],
        },
      };
    });
    expect(r.stderr).toBe("");
    const d = `${dev.major}:${dev.minor}`;
    expect(r.stdout.trim().split("\n")).toEqual([`${d} 1048576`, `${d} 2097152`, `${d} 100`, `${d} 200`]);
  });

  test("a throttle on a device that does not exist: refused naming the entry", async () => {
    const r = await runWith("true", (s) => {
      s.linux!.resources = { blockIO: { throttleReadBpsDevice: [{ major: 4000, minor: 9, rate: 1 }] } };
    });
    await expectRefused(r, "linux.resources.blockIO.throttleReadBpsDevice[0]");
  });

  test("weight: applied where the kernel has a proportional scheduler's file (BFQ's here), else refused", async () => {
    const weightFile = ["blkio.weight", "blkio.bfq.weight"].find((f) => childHas("blkio", f));
    const r = await runWith(`cat /sys/fs/cgroup/blkio/${weightFile ?? "blkio.weight"}`, (s) => {
      s.linux!.resources = { blockIO: { weight: 300 } };
    });
    if (weightFile) expect(r.stdout).toContain("300");
    else await expectRefused(r, "linux.resources.blockIO.weight: this host's kernel has no blkio.weight or blkio.bfq.weight");
  });

  test("weightDevice: applied for a disk BFQ schedules, refused naming the entry otherwise", async () => {
    const dev = blockDevice();
    const bfq = readFileSync(`/sys/dev/block/${dev.major}:${dev.minor}/queue/scheduler`, "utf8").includes("[bfq]");
    const deviceFile = ["blkio.weight_device", "blkio.bfq.weight_device"].find((f) => childHas("blkio", f));
    const r = await runWith(`cat /sys/fs/cgroup/blkio/${deviceFile ?? "blkio.weight_device"}`, (s) => {
      s.linux!.resources = { blockIO: { weightDevice: [{ ...dev, weight: 200 }] } };
    });
    if (deviceFile && bfq) expect(r.stdout).toContain(`${dev.major}:${dev.minor} 200`);
    else if (deviceFile) {
      await expectRefused(r, `linux.resources.blockIO.weightDevice[0].weight: cannot set ${deviceFile} to ${dev.major}:${dev.minor} 200 (ENOTSUP)`);
      expect(r.stderr).toContain("I/O scheduler is not BFQ");
    }
    else await expectRefused(r, "linux.resources.blockIO.weightDevice[0].weight: this host's kernel has no blkio.weight_device");
  });

  test("leafWeight: applied where CFQ's blkio.leaf_weight exists, else refused", async () => {
    const r = await runWith("cat /sys/fs/cgroup/blkio/blkio.leaf_weight 2>/dev/null", (s) => {
      s.linux!.resources = { blockIO: { leafWeight: 500 } };
    });
    if (childHas("blkio", "blkio.leaf_weight")) expect(r.stdout.trim()).toBe("500");
    else await expectRefused(r, "linux.resources.blockIO.leafWeight: this host's kernel has no blkio.leaf_weight");
  });
});

describe("linux.resources: network, hugepageLimits, rdma", () => {
  test("network.classID and priorities: applied through net_cls/net_prio where mounted, else refused", async () => {
    const r = await runWith("cat /sys/fs/cgroup/net_cls/net_cls.classid 2>/dev/null", (s) => {
      s.linux!.resources = { network: { classID: 0x100001 } };
    });
    if (existsSync(join(V1, "net_cls"))) expect(r.stdout.trim()).toBe(String(0x100001));
    else await expectRefused(r, "linux.resources.network.classID needs the net_cls controller");
    const rp = await runWith("cat /sys/fs/cgroup/net_prio/net_prio.ifpriomap 2>/dev/null", (s) => {
      s.linux!.resources = { network: { priorities: [{ name: "lo", priority: 5 }] } };
    });
    if (existsSync(join(V1, "net_prio"))) expect(rp.stdout).toContain("lo 5");
    else await expectRefused(rp, "linux.resources.network.priorities needs the net_prio controller");
  });

  test("hugepageLimits and rdma need their controllers: refused on a host without them", async () => {
    const r = await runWith("true", (s) => {
      s.linux!.resources = { hugepageLimits: [{ pageSize: "2MB", limit: 1 << 22 }] };
    });
    if (!existsSync(join(V1, "hugetlb"))) await expectRefused(r, "linux.resources.hugepageLimits needs the hugetlb controller");
    else expect(r.exitCode).toBe(0);
    const rr = await runWith("true", (s) => {
      s.linux!.resources = { rdma: { mlx4_0: { hcaHandles: 2 } } };
    });
    // no RDMA device here either way: the kernel refuses an unknown device
    await expectRefused(rr, "linux.resources.rdma");
  });
});

describe("linux.resources.memory and cpu, read back from the container's cgroup", () => {
  test("swappiness, kernelTCP, disableOOMKiller, useHierarchy", async () => {
    const m = "/sys/fs/cgroup/memory";
    const r = await runWith(`cat ${m}/memory.swappiness ${m}/memory.kmem.tcp.limit_in_bytes ${m}/memory.use_hierarchy; head -1 ${m}/memory.oom_control`, (s) => {
      s.linux!.resources = { memory: { swappiness: 17, kernelTCP: 4096 * 100, disableOOMKiller: true, useHierarchy: true } };
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(["17", String(4096 * 100), "1", "oom_kill_disable 1"]);
  });

  test("useHierarchy false, which newer kernels no longer take: refused naming the field", async () => {
    const r = await runWith("true", (s) => {
      s.linux!.resources = { memory: { useHierarchy: false } };
    });
    await expectRefused(r, "linux.resources.memory.useHierarchy");
  });

  test("memory.kernel: a kernel that ignores memory.kmem.limit_in_bytes gets it refused", async () => {
    const r = await runWith("cat /sys/fs/cgroup/memory/memory.kmem.limit_in_bytes", (s) => {
      s.linux!.resources = { memory: { kernel: 4096 * 1000 } };
    });
    if (r.exitCode === 0) expect(r.stdout.trim()).toBe(String(4096 * 1000));
    else await expectRefused(r, "linux.resources.memory.kernel: this kernel ignores memory.kmem.limit_in_bytes");
  });

  test("cpu: burst, idle, realtimePeriod and realtimeRuntime, each on its own", async () => {
    const c = "/sys/fs/cgroup/cpu";
    const r = await runWith(`cat ${c}/cpu.cfs_burst_us ${c}/cpu.rt_period_us ${c}/cpu.rt_runtime_us`, (s) => {
      s.linux!.resources = { cpu: { quota: 50000, period: 100000, burst: 20000, realtimePeriod: 500000, realtimeRuntime: 0 } };
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(["20000", "500000", "0"]);
    // before, idle was dropped when no shares, quota or period came with it
    const ri = await runWith(`cat ${c}/cpu.idle`, (s) => {
      s.linux!.resources = { cpu: { idle: 1 } };
    });
    expect(ri.stdout.trim()).toBe("1");
  });

  test("cpu: shares 0 is 'not set' (docker sends it without --cpu-shares), the kernel's default stays", async () => {
    const r = await runWith("cat /sys/fs/cgroup/cpu/cpu.shares", (s) => {
      s.linux!.resources = { cpu: { shares: 0 } };
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("1024");
  });

  test("blockIO: weight and leafWeight 0 are 'not set' (docker sends them so), not refused", async () => {
    const r = await runWith("echo ran", (s) => {
      s.linux!.resources = { blockIO: { weight: 0, leafWeight: 0 } };
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("ran");
  });

  test("a real-time runtime the parent cgroup has no budget for: refused naming the field", async () => {
    const r = await runWith("true", (s) => {
      s.linux!.resources = { cpu: { realtimeRuntime: 10_000_000 } };
    });
    await expectRefused(r, "linux.resources.cpu.realtimeRuntime");
  });

  test("checkBeforeUpdate: update refuses a limit below the current usage, keeps the old one", async () => {
    const bundle = await makeBundle(["sleep", "30"], (s) => {
      s.linux!.resources = { memory: { limit: 64 << 20 } };
    });
    const id = uniqueId("cbu");
    await mycr(["run", "-d", "--bundle", bundle, id], { leavesContainer: true });
    try {
      const dir = cgroupsOf(id)[0]!.record.dirs["memory"]!;
      const r = await mycr(["update", "--resources", "-", id], { stdin: JSON.stringify({ memory: { limit: 4096, checkBeforeUpdate: true } }) });
      expect(r.exitCode).toBe(125);
      expect(r.stderr).toContain("linux.resources.memory.limit: 4096 is below the container's current usage");
      expect(readFileSync(join(dir, "memory.limit_in_bytes"), "utf8").trim()).toBe(String(64 << 20));
    } finally {
      await mycr(["delete", "-f", id]);
    }
  });
});

describe("process attributes of the program", () => {
  test("ioPriority", async () => {
    const r = await runWith("ionice -p $$", (s) => {
      s.process!.ioPriority = { class: "IOPRIO_CLASS_BE", priority: 6 };
    });
    expect(r.stdout.trim()).toBe("best-effort: prio 6");
  });

  test("scheduler: SCHED_BATCH with a nice value (policy and nice from /proc/self/stat)", async () => {
    // fields after the command name: state is 3rd, nice 19th, policy 41st
    const r = await runWith("cut -d')' -f2 /proc/self/stat | awk '{print $17, $39}'", (s) => {
      s.process!.scheduler = { policy: "SCHED_BATCH", nice: 5 };
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("5 3");
  });

  test("scheduler: SCHED_FIFO in a cgroup without a real-time budget is refused naming the field", async () => {
    const r = await runWith("true", (s) => {
      s.process!.scheduler = { policy: "SCHED_FIFO", priority: 10 };
    });
    await expectRefused(r, "process.scheduler");
  });

  test("execCPUAffinity.final", async () => {
    const r = await runWith("grep Cpus_allowed_list /proc/self/status", (s) => {
      s.process!.execCPUAffinity = { final: "0" };
    });
    expect(r.stdout.trim()).toBe("Cpus_allowed_list:\t0");
  });

  test("personality LINUX32", async () => {
    const r = await runWith("uname -m", (s) => {
      s.linux!.personality = { domain: "LINUX32" };
    });
    expect(r.stdout.trim()).toMatch(process.arch === "x64" ? /^i[3-6]86$/ : /^armv[78]l$/);
  });
});

describe("refused, one line naming the field, nothing left", () => {
  const lsmOn = (name: string) => {
    try {
      return readFileSync("/sys/kernel/security/lsm", "utf8").includes(name);
    } catch {
      return false;
    }
  };
  const cases: Array<[string, (s: Spec) => void, string]> = [
    ["linux.intelRdt", (s) => (s.linux!.intelRdt = { closID: "x" }), "config.json: linux.intelRdt: Intel RDT (resctrl) is not supported by mycr"],
    ["linux.timeOffsets", (s) => (s.linux!.timeOffsets = { monotonic: { secs: 10 } }), "config.json: linux.timeOffsets: offsets need a new time namespace"],
    ["process.commandLine", (s) => (s.process!.commandLine = "cmd /c dir"), "config.json: process.commandLine: is for Windows; use process.args"],
    ["hostname without a UTS namespace", (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "uts")), "config.json: hostname: needs a UTS namespace of the container's own"],
    ["linux.personality.flags", (s) => (s.linux!.personality = { domain: "LINUX", flags: ["ADDR_NO_RANDOMIZE"] }), "config.json: linux.personality.flags"],
    ["process.execCPUAffinity.initial", (s) => (s.process!.execCPUAffinity = { initial: "0" }), "config.json: process.execCPUAffinity.initial: not supported"],
    ["a scheduler clamp flag", (s) => (s.process!.scheduler = { policy: "SCHED_OTHER", flags: ["SCHED_FLAG_UTIL_CLAMP_MIN"] }), "config.json: process.scheduler.flags: SCHED_FLAG_UTIL_CLAMP_MIN"],
    ["a systemd property annotation without the systemd manager", (s) => (s.annotations = { "org.systemd.property.CPUQuota": "50%" }), "config.json: annotations.org.systemd.property.CPUQuota: systemd unit properties need the systemd cgroup manager (--systemd-cgroup)"],
    ["filesystem data on a bind mount", (s) => s.mounts!.unshift({ destination: "/data", type: "bind", source: "/tmp", options: ["rbind", "rro"] }), 'config.json: mounts[0].options[1]: "rro" is not an option of a bind mount'],
    ["a field of a newer runtime-spec", (s) => ((s.linux as Record<string, unknown>).netDevices = { eth1: {} }), "config.json: linux.netDevices: not supported by mycr"],
    ["seccomp listenerMetadata", (s) => (s.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", listenerMetadata: "x" }), "config.json: linux.seccomp.listenerMetadata"],
    ["an ioPriority class that does not exist", (s) => (s.process!.ioPriority = { class: "IOPRIO_CLASS_NONE" }), "config.json: process.ioPriority.class: must be one of"],
    ["a negative throttle rate", (s) => (s.linux!.resources = { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: -1 }] } }), "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: must be 0 to"],
  ];
  if (!lsmOn("apparmor")) cases.push(["process.apparmorProfile without AppArmor", (s) => (s.process!.apparmorProfile = "docker-default"), "config.json: process.apparmorProfile: AppArmor is not enabled on this host's kernel"]);
  if (!lsmOn("selinux")) {
    cases.push(["process.selinuxLabel without SELinux", (s) => (s.process!.selinuxLabel = "system_u:system_r:container_t:s0"), "config.json: process.selinuxLabel: SELinux is not enabled"]);
    cases.push(["linux.mountLabel without SELinux", (s) => (s.linux!.mountLabel = "system_u:object_r:container_file_t:s0"), "config.json: linux.mountLabel: SELinux is not enabled"]);
  }
  for (const [name, change, message] of cases) {
    test(name, async () => {
      const r = await runWith("true", change);
      await expectRefused(r, message);
    });
  }

  // With the systemd manager the annotations are read before anything is created, so a
  // value mycr cannot read is refused even here, where the manager itself cannot run.
  const unreadable: Array<[string, string, string]> = [
    ["CPUQuota", "50%", 'value "50%": not a form mycr reads'],
    ["lowercase", "true", "not a systemd property name"],
    ["Slice", "'evil.slice'", "Slice is set by mycr itself"],
    ["TimeoutStopSec", "'5s'", "a ...Sec property needs a number of seconds"],
    ["TasksMax", "uint16 70000", 'value "uint16 70000": 70000 is out of range for uint16'],
    ["Tuple", "(1, 2)", 'value "(1, 2)": not a form mycr reads'],
    ["Mixed", "['a', 2]", `value "['a', 2]": not a form mycr reads`],
  ];
  for (const [name, value, message] of unreadable) {
    test(`--systemd-cgroup: org.systemd.property.${name}=${value} is refused`, async () => {
      const bundle = await makeBundle(["true"], (s) => (s.annotations = { [`org.systemd.property.${name}`]: value }));
      const id = uniqueId("sdprop");
      const r = { ...(await mycr(["--systemd-cgroup", "run", "--bundle", bundle, id])), id };
      await expectRefused(r, `config.json: annotations.org.systemd.property.${name}: ${message}`);
    });
  }

  test("exec --process: the process fields are refused there too", async () => {
    const bundle = await makeBundle(["sleep", "30"]);
    const id = uniqueId("exref");
    await mycr(["run", "-d", "--bundle", bundle, id], { leavesContainer: true });
    try {
      const proc = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")).process;
      const file = join(bundle, "exec-process.json");
      writeFileSync(file, JSON.stringify({ ...proc, args: ["true"], execCPUAffinity: { initial: "0" } }));
      const r = await mycr(["exec", "--process", file, id]);
      expect(r.exitCode).toBe(125);
      expect(r.stderr).toStartWith("mycr: process.execCPUAffinity.initial: not supported");
    } finally {
      await mycr(["delete", "-f", id]);
    }
  });
});

describe("docs/oci.md and mycr features say the same", () => {
  /** The rows of the table whose first cell is a `field`: field -> [v1, v2]. */
  function docFields(): Record<string, { v1: string; v2: string }> {
    const rows: Record<string, { v1: string; v2: string }> = {};
    for (const line of readFileSync(join(REPO, "docs/oci.md"), "utf8").split("\n")) {
      const m = /^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|/.exec(line);
      if (m) rows[m[1]!] = { v1: m[2]!.trim(), v2: m[3]!.trim() };
    }
    return rows;
  }

  /** Every `code` of the paragraph after the marker comment `marker`. */
  function docList(marker: string): string[] {
    const text = readFileSync(join(REPO, "docs/oci.md"), "utf8");
    expect(text).toContain(marker);
    const paragraph = text.slice(text.indexOf(marker) + marker.length).trimStart().split("\n\n")[0]!;
    return [...paragraph.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  }

  test("every field with its v1 and v2 status, the mount options and the annotations", async () => {
    const r = await mycr(["features"]);
    const f = JSON.parse(r.stdout);
    const fields = docFields();
    expect(Object.keys(fields).length).toBeGreaterThan(80);
    expect(fields).toEqual(f["org.mycr.config"].fields);
    expect(docList("<!-- mountOptions -->")).toEqual(f.mountOptions);
    expect(docList("<!-- annotations read -->")).toEqual(f["org.mycr.config"].annotationsRead);
    expect(docList("<!-- annotations refused -->")).toEqual(f["org.mycr.config"].annotationsRefused);
    expect(f.potentiallyUnsafeConfigAnnotations).toEqual(f["org.mycr.config"].annotationsRead);
  });
});
