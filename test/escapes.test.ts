// The classic ways out of a container, tried from inside a default `mycr run` container
// as root. Every attempt must fail. Each test names the attack it stands for.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./helpers/env";
import { hostCgroups } from "../src/cgroups/hierarchy";
import { containerPid, waitForContainerPid } from "./helpers/containers";
import { mycr, mycrBackground } from "./helpers/mycr";
import { buildProbe, canBuildProbe } from "./helpers/probe";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
/** busybox plus /bin/probe and a few hostile files; removed afterwards. */
let attackRoot: string;
const made: string[] = [];

function derivedRootfs(name: string, customize: (dir: string) => void): string {
  const dir = join(WORK, `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(rootfs, dir, { recursive: true, verbatimSymlinks: true });
  customize(dir);
  made.push(dir);
  return dir;
}

beforeAll(() => {
  rootfs = busyboxRootfs();
  const probe = canBuildProbe ? buildProbe() : null;
  attackRoot = derivedRootfs("attack-rootfs", (dir) => {
    if (probe) {
      copyFileSync(probe, join(dir, "bin/probe"));
      chmodSync(join(dir, "bin/probe"), 0o755);
    }
  });
});

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const inside = (script: string, flags: string[] = [], root = attackRoot) => mycr(["run", "--rootfs", root, ...flags, "--", "/bin/sh", "-c", script]);
const probeTest = canBuildProbe ? test : test.skip;

function hostMounts(): string {
  return readFileSync("/proc/self/mountinfo", "utf8");
}

describe("escapes through the kernel's global state", () => {
  test("mount: mounting a file system fails (no CAP_SYS_ADMIN, mount(2) filtered)", async () => {
    const r = await inside("mkdir -p /mnt; mount -t tmpfs none /mnt && echo MOUNTED; mount -o remount,rw /proc/sys && echo REMOUNTED; grep -c . /proc/self/mountinfo");
    expect(r.stdout).not.toContain("MOUNTED");
    expect(r.stdout).not.toContain("REMOUNTED");
  });

  test("kernel module: insmod fails with EPERM before the kernel reads the image", async () => {
    // With the call allowed the kernel would answer ENOEXEC (busybox is no module).
    const r = await inside("insmod /bin/busybox; echo rc=$?");
    expect(r.stdout).toContain("rc=1");
    expect(r.stderr).toMatch(/Operation not permitted/);
  });

  probeTest("kernel module: init_module(2) is refused by seccomp (EPERM, not the kernel's EFAULT)", async () => {
    const r = await inside("probe init-module");
    expect(r.stdout.trim()).toBe("EPERM");
  });

  probeTest("keyring: keyctl and add_key are refused (the kernel keyring is shared with the host)", async () => {
    const r = await inside("probe keyctl-join; probe add-key; wc -c < /proc/keys");
    expect(r.stdout.trim().split("\n")).toEqual(["EPERM", "EPERM", "0"]);
  });

  test("raw sockets: without NET_RAW ping cannot open its socket", async () => {
    const allowed = await inside("ping -c1 -W1 127.0.0.1 >/dev/null && echo PING-OK");
    expect(allowed.stdout).toContain("PING-OK"); // docker's default set has NET_RAW
    const r = await inside("ping -c1 -W1 127.0.0.1 >/dev/null && echo PING-OK; echo done", ["--cap-drop", "NET_RAW"]);
    expect(r.stdout).not.toContain("PING-OK");
    expect(r.stderr).toContain("permission denied");
  });

  test("host memory: /proc/kcore and the other host-revealing files read as empty", async () => {
    const paths = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats"].filter((p) => existsSync(p));
    const r = await inside(paths.map((p) => `echo ${p}=$(cat ${p} 2>/dev/null | wc -c)`).join("; ") + "; ls /sys/firmware | wc -l");
    for (const p of paths) expect(r.stdout).toContain(`${p}=0`);
    expect(r.stdout.trim().split("\n").pop()).toBe("0");
  });

  test("kernel parameters: /proc/sys and /proc/sysrq-trigger cannot be written", async () => {
    const before = readFileSync("/proc/sys/kernel/printk_ratelimit", "utf8");
    const r = await inside("echo 1234 > /proc/sys/kernel/printk_ratelimit && echo WROTE; echo h > /proc/sysrq-trigger && echo SYSRQ; echo done");
    expect(r.stdout).not.toContain("WROTE");
    expect(r.stdout).not.toContain("SYSRQ");
    expect(r.stderr).toContain("Read-only file system");
    expect(readFileSync("/proc/sys/kernel/printk_ratelimit", "utf8")).toBe(before);
  });

  test("user namespace: unshare -U is refused (new namespaces need CAP_SYS_ADMIN)", async () => {
    const r = await inside("unshare -U true && echo USERNS; unshare -m true && echo MNTNS; unshare -n true && echo NETNS; echo done");
    expect(r.stdout.trim()).toBe("done");
    expect(r.stderr).toContain("Operation not permitted");
  });

  probeTest("user namespace: clone(CLONE_NEWUSER) is refused; clone3 answers ENOSYS", async () => {
    const r = await inside("probe clone-newuser; probe clone3");
    expect(r.stdout.trim().split("\n")).toEqual(["EPERM", "ENOSYS"]);
  });

  probeTest("vsock: sockets to the hypervisor are refused", async () => {
    const r = await inside("probe vsock");
    expect(r.stdout.trim()).toBe("EPERM");
  });

  test("disk: mknod of the host's disk works (as in docker) but opening it is denied", async () => {
    const r = await inside("mknod /dev/sda b 8 0 && echo MADE; dd if=/dev/sda of=/dev/null bs=512 count=1 2>&1 && echo READ; mknod /dev/mem2 c 1 1 && echo MADE; head -c1 /dev/mem2 && echo READ; echo done");
    expect(r.stdout).not.toContain("READ");
    expect(r.stdout.match(/MADE/g)?.length).toBe(2);
    expect(r.stdout + r.stderr).toContain("Operation not permitted");
  });
});

describe("escapes to other processes", () => {
  probeTest("ptrace: a host process is neither visible nor attachable", async () => {
    const host = Bun.spawn(["sleep", "30"]);
    try {
      const pid = host.pid;
      const r = await inside(`test -e /proc/${pid} && echo VISIBLE; kill -0 ${pid} 2>/dev/null && echo SIGNALLED; probe ptrace-attach ${pid}; grep CapEff /proc/self/status`);
      expect(r.stdout).not.toContain("VISIBLE");
      expect(r.stdout).not.toContain("SIGNALLED");
      expect(r.stdout).toContain("ESRCH");
      const capEff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(r.stdout)![1]}`);
      expect((capEff >> 19n) & 1n).toBe(0n); // CAP_SYS_PTRACE
    } finally {
      host.kill(9);
      await host.exited;
    }
  });
});

describe("escapes through the runtime", () => {
  test("CVE-2024-21626 (leaked fd / cwd): no descriptor or cwd of PID 1 points outside the root", async () => {
    const r = await inside("readlink /proc/1/cwd; readlink /proc/1/root; for f in /proc/1/fd/*; do readlink $f; done; for n in 3 4 5 6 7 8 9 10 11 12; do cd /proc/self/fd/$n 2>/dev/null && echo ENTERED-$n && cd /; done; echo end");
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("/");
    expect(lines[1]).toBe("/");
    expect(lines[lines.length - 1]).toBe("end");
    expect(r.stdout).not.toContain("ENTERED");
    // every descriptor of PID 1 is stdio (a pipe or /dev/null), or a path inside the container
    for (const target of lines.slice(2, -1)) expect(target).toMatch(/^(pipe:|socket:|\/dev\/null|\/bin\/|\/proc\/)/);
  });

  test("CVE-2021-30465 (symlinked mount destinations): mounts stay inside a hostile root", async () => {
    // Not under /tmp, /sys or /proc: those are the symlinks below, and a target reached
    // through one of them would only make a symlink loop (refused: ELOOP).
    const hostDir = `/var/tmp/host-target-${process.pid}`;
    mkdirSync(hostDir, { recursive: true });
    writeFileSync(join(hostDir, "canary"), "host data\n");
    made.push(hostDir);
    const hostile = derivedRootfs("hostile-rootfs", (dir) => {
      // /tmp (a tmpfs mycr mounts) and /sys point at a host directory, /proc at the host's /etc.
      rmSync(join(dir, "tmp"), { recursive: true, force: true });
      symlinkSync(`/../../../../../../../..${hostDir}`, join(dir, "tmp"));
      rmSync(join(dir, "sys"), { recursive: true, force: true });
      symlinkSync(`../../../../../../../..${hostDir}`, join(dir, "sys"));
      rmSync(join(dir, "proc"), { recursive: true, force: true });
      symlinkSync("/../../../../../../../../etc", join(dir, "proc"));
    });
    const mountsBefore = hostMounts();
    // --network none: with /proc pointing at /etc, proc lands on the root's own /etc
    // (inside the root, as it must), where /etc/resolv.conf could not be bound.
    const r = await inside(`ls -A /tmp/ | grep -c canary; echo pwned > /tmp/pwned; echo done`, ["--network", "none"], hostile);
    expect(r.stdout).toContain("done");
    expect(r.stdout.trim().split("\n")[0]).toBe("0"); // the host's directory is not what /tmp shows
    expect(readdirSync(hostDir)).toEqual(["canary"]);
    expect(readFileSync(join(hostDir, "canary"), "utf8")).toBe("host data\n");
    expect(hostMounts()).toBe(mountsBefore);
    expect(hostMounts()).not.toContain(hostDir);
  });
});

describe("escapes through the cgroup file systems", () => {
  const host = hostCgroups();
  const systemd = host.mode === "v2" ? undefined : host.v1.find((h) => h.controllers.includes("name=systemd"));
  const hybrid = host.mode === "hybrid" && host.unified !== null;

  /** Names of the cgroups directly under a hierarchy's root on the host: what a container must not see. */
  function hostCgroupNames(mount: string): string[] {
    return readdirSync(mount, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  }

  // A named hierarchy has no controller whose limits would matter, but its root holds the
  // host's release_agent and, below it, every cgroup of the host and of other containers.
  // On a hybrid host the cgroup2 tree at /sys/fs/cgroup/unified is checked the same way.
  test.skipIf(!systemd)("cgroup escape: a container sees only its own cgroup in name=systemd", async () => {
    const marker = `1000.${process.pid}7`;
    const sibling = mycrBackground(["run", "--rootfs", rootfs, "--network", "none", "--", "sleep", marker]);
    try {
      const pid = await waitForContainerPid(marker);
      const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n");
      const siblingId = /\/mycr\/([0-9a-f]{64})$/.exec(lines.find((l) => /:memory:/.test(l)) ?? "")?.[1];
      expect(siblingId).toBeDefined();
      // Seen from the host, the sibling sits in a cgroup of its own in name=systemd too.
      expect(lines.find((l) => /:name=systemd:/.test(l))).toEndWith(`/mycr/${siblingId}`);
      const hierarchies = ["/sys/fs/cgroup/systemd", ...(hybrid ? ["/sys/fs/cgroup/unified"] : [])];
      const forbidden = ["release_agent", ...hostCgroupNames(systemd!.mount), ...(hybrid ? hostCgroupNames(host.unified!) : [])];
      const script = hierarchies.map((h) => `echo "== ${h}"; ls -A ${h}; find ${h} -mindepth 1 -type d`).join("; ");
      for (let i = 0; i < 8; i++) {
        const r = await inside(script, ["--network", "none"]);
        expect(r.exitCode).toBe(0);
        const seen = r.stdout.split("\n").filter((l) => l !== "" && !l.startsWith("== "));
        // Each hierarchy was listed, and what it shows is a cgroup: the container's own.
        for (const h of hierarchies) expect(r.stdout).toContain(`== ${h}\ncgroup.`);
        expect({ i, seen: seen.filter((name) => forbidden.includes(name) || name.includes(siblingId!)) }).toEqual({ i, seen: [] });
        // The container's cgroup has no cgroups below it: a directory there is someone else's.
        expect({ i, dirs: seen.filter((l) => l.startsWith("/")) }).toEqual({ i, dirs: [] });
      }
    } finally {
      // sleep as PID 1 ignores SIGTERM: end it as the host's root would, mycr then cleans up.
      const pid = containerPid(marker);
      if (pid !== null) process.kill(pid, "SIGKILL");
      else sibling.proc.kill("SIGKILL");
      await sibling.result();
    }
  });
});
