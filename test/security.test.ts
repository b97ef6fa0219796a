// What a `mycr run` container is allowed by default (docker's defaults), and how each
// security flag loosens or tightens it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WORK } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
const files: string[] = [];
beforeAll(() => {
  rootfs = busyboxRootfs();
});
afterAll(() => {
  for (const f of files) rmSync(f, { force: true });
});

const run = (flags: string[], script: string) => mycr(["run", "--rootfs", rootfs, ...flags, "--", "/bin/sh", "-c", script]);

/** docker's default capability set as a mask: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP. */
const DOCKER_DEFAULT_CAPS = "00000000a80425fb";

function status(out: string, field: string): string {
  return new RegExp(`^${field}:\\s*(\\S+)$`, "m").exec(out)?.[1] ?? "";
}

function hostBounding(): string {
  return status(readFileSync("/proc/self/status", "utf8"), "CapBnd");
}

function profile(name: string, body: unknown): string {
  const path = join(WORK, `${name}-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(body));
  files.push(path);
  return path;
}

describe("defaults", () => {
  test("docker's capability set, in every set including the bounding set", async () => {
    const r = await run([], "cat /proc/self/status");
    expect(r.exitCode).toBe(0);
    for (const set of ["CapPrm", "CapEff", "CapBnd"]) expect(status(r.stdout, set)).toBe(DOCKER_DEFAULT_CAPS);
    expect(status(r.stdout, "CapInh")).toBe("0000000000000000");
    expect(status(r.stdout, "CapAmb")).toBe("0000000000000000");
  });

  test("a seccomp filter is installed; no_new_privs stays off", async () => {
    const r = await run([], "cat /proc/self/status");
    expect(status(r.stdout, "Seccomp")).toBe("2");
    expect(status(r.stdout, "NoNewPrivs")).toBe("0");
  });

  test("the device cgroup allows the standard devices and mknod only", async () => {
    const r = await run([], "cat /sys/fs/cgroup/devices/devices.list");
    expect(r.stdout.trim().split("\n").sort()).toEqual(
      ["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm"].sort(),
    );
  });

  test("host-revealing /proc and /sys paths are masked, kernel settings read-only", async () => {
    const r = await run([], "cat /proc/self/mountinfo");
    const mounts = r.stdout.split("\n").map((l) => l.split(" "));
    const at = (p: string) => mounts.find((m) => m[4] === p);
    for (const p of ["/proc/acpi", "/proc/keys", "/proc/timer_list", "/proc/scsi", "/sys/firmware"]) {
      // a path the host's kernel has is hidden: a read-only tmpfs or /dev/null over it
      const exists = Bun.spawnSync(["test", "-e", p]).exitCode === 0;
      if (exists) expect(at(p)).toBeDefined();
    }
    for (const p of ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]) {
      if (Bun.spawnSync(["test", "-e", p]).exitCode !== 0) continue;
      expect(at(p)?.[5]).toMatch(/^ro,/);
    }
  });

  test("ordinary work still runs: files, processes, pipes, sockets, signals", async () => {
    const r = await run([], "mkdir -p /a/b && echo x > /a/b/c && chown 65534 /a/b/c && cat /a/b/c | wc -c; (sleep 0.1 &) ; kill -0 $$ && echo alive; nc -l -p 5555 & sleep 0.2; echo hi | nc 127.0.0.1 5555; wait");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("2\nalive");
  });
});

describe("flags", () => {
  test("--cap-drop and --cap-add take names with or without CAP_, in any case", async () => {
    const r = await run(["--cap-drop", "net_raw", "--cap-drop", "CAP_CHOWN", "--cap-add", "sys_ptrace", "--cap-add", "CAP_NET_ADMIN"], "cat /proc/self/status");
    const eff = BigInt(`0x${status(r.stdout, "CapEff")}`);
    const has = (bit: number) => ((eff >> BigInt(bit)) & 1n) === 1n;
    expect(has(13)).toBe(false); // NET_RAW
    expect(has(0)).toBe(false); // CHOWN
    expect(has(19)).toBe(true); // SYS_PTRACE
    expect(has(12)).toBe(true); // NET_ADMIN
    expect(status(r.stdout, "CapBnd")).toBe(status(r.stdout, "CapEff"));
  });

  test("--cap-drop ALL leaves only what --cap-add names", async () => {
    const r = await run(["--cap-drop", "ALL", "--cap-add", "KILL"], "cat /proc/self/status");
    expect(status(r.stdout, "CapEff")).toBe("0000000000000020");
  });

  test("--cap-add SYS_ADMIN opens the calls the profile reserves for it (here: sethostname, unshare)", async () => {
    const denied = await run([], "hostname other 2>&1 || echo DENIED");
    expect(denied.stdout).toContain("DENIED");
    const r = await run(["--cap-add", "SYS_ADMIN"], "hostname other && hostname && unshare -n true && echo NETNS");
    expect(r.stdout.trim().split("\n")).toEqual(["other", "NETNS"]);
  });

  test("an unknown capability is one clear error", async () => {
    const r = await run(["--cap-add", "FLY"], "true");
    expect(r.exitCode).toBe(125);
    expect(r.stderr.trim()).toBe("mycr: --cap-add FLY: unknown capability");
  });

  test("--security-opt no-new-privileges (and :true) sets no_new_privs", async () => {
    for (const opt of ["no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"]) {
      const r = await run(["--security-opt", opt], "cat /proc/self/status");
      expect(status(r.stdout, "NoNewPrivs")).toBe("1");
      expect(status(r.stdout, "Seccomp")).toBe("2");
      expect(status(r.stdout, "CapEff")).toBe(DOCKER_DEFAULT_CAPS);
    }
  });

  test("--security-opt seccomp=unconfined installs no filter", async () => {
    const r = await run(["--security-opt", "seccomp=unconfined"], "cat /proc/self/status");
    expect(status(r.stdout, "Seccomp")).toBe("0");
  });

  test("--security-opt seccomp=PROFILE.json: docker's format, errnoRet, argument filters, includes by capability", async () => {
    const path = profile("profile", {
      defaultAction: "SCMP_ACT_ALLOW",
      archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86"] }, { architecture: "SCMP_ARCH_AARCH64" }],
      syscalls: [
        { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 28 /* ENOSPC */ },
        // fchmodat with mode 0o700 only (busybox chmod uses fchmodat or chmod)
        { names: ["chmod", "fchmodat"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, value: 0o700, op: "SCMP_CMP_EQ" }] },
        { names: ["chmod"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, value: 0o700, op: "SCMP_CMP_EQ" }], includes: { caps: ["CAP_SYS_ADMIN"] } },
        { names: ["rmdir"], action: "SCMP_ACT_ERRNO", excludes: { caps: ["CAP_CHOWN"] } },
      ],
    });
    const r = await run(["--security-opt", `seccomp=${path}`], "mkdir /x 2>&1; touch /f; chmod 700 /f 2>&1 || echo CHMOD-DENIED; chmod 755 /f && echo CHMOD-OK; rmdir /tmp 2>&1; echo done");
    expect(r.stdout).toContain("No space left on device");
    expect(r.stdout).toContain("CHMOD-DENIED");
    expect(r.stdout).toContain("CHMOD-OK");
    expect(r.stdout).not.toContain("rmdir: '/tmp': Operation not permitted"); // excluded: the container has CAP_CHOWN
  });

  test("a broken profile is one clear error", async () => {
    const bad = profile("bad-profile", { syscalls: [] });
    const r1 = await run(["--security-opt", `seccomp=${bad}`], "true");
    expect(r1.exitCode).toBe(125);
    expect(r1.stderr).toContain("'defaultAction' is required");
    const unknownAction = profile("bad-action", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_EXPLODE" }] });
    const r2 = await run(["--security-opt", `seccomp=${unknownAction}`], "true");
    expect(r2.exitCode).toBe(125);
    expect(r2.stderr.trim()).toBe('mycr: linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_EXPLODE"');
  });

  test("--privileged: every capability mycr holds, no seccomp, no masks, writable /sys, all devices", async () => {
    const r = await run(["--privileged"], "cat /proc/self/status; grep -E ' /proc/(kcore|keys|sys) | /sys ' /proc/self/mountinfo | wc -l; grep ' /sys ' /proc/self/mounts; cat /sys/fs/cgroup/devices/devices.list; test -e /dev/loop0 && echo HOSTDEV");
    expect(status(r.stdout, "CapEff")).toBe(hostBounding());
    expect(status(r.stdout, "Seccomp")).toBe("0");
    expect(r.stdout).toContain("sysfs /sys sysfs rw");
    expect(r.stdout).toContain("a *:* rwm");
    if (Bun.spawnSync(["test", "-e", "/dev/loop0"]).exitCode === 0) expect(r.stdout).toContain("HOSTDEV");
  });

  test("--device gives one host device with the given permissions", async () => {
    if (Bun.spawnSync(["test", "-b", "/dev/loop0"]).exitCode !== 0) return; // needs a loop device
    const r = await run(["--device", "/dev/loop0:/dev/xvda:r"], "stat -c '%t:%T' /dev/xvda; grep '^b 7:0' /sys/fs/cgroup/devices/devices.list; head -c0 /dev/xvda && echo READ; echo > /dev/xvda 2>/dev/null || echo NO-WRITE");
    expect(r.stdout.trim().split("\n")).toEqual(["7:0", "b 7:0 r", "READ", "NO-WRITE"]);
    const bad = await run(["--device", "/etc/passwd"], "true");
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr.trim()).toBe("mycr: --device /etc/passwd: /etc/passwd is not a character or block device");
  });

  test("--sysctl sets namespaced parameters inside only, and rejects the host's", async () => {
    const before = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8");
    const r = await run(["--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=12345678"], "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax");
    expect(r.stdout.trim().split("\n")).toEqual(["1", "12345678"]);
    expect(readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8")).toBe(before);
    const bad = await run(["--sysctl", "kernel.panic=1"], "true");
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toStartWith("mycr: --sysctl kernel.panic=1: kernel.panic is not namespaced");
    expect(bad.stderr.trim().split("\n").length).toBe(1);
  });

  test("unsupported --security-opt values are refused", async () => {
    const r = await run(["--security-opt", "apparmor=docker-default"], "true");
    expect(r.exitCode).toBe(125);
    expect(r.stderr.trim()).toBe("mycr: --security-opt apparmor=docker-default: AppArmor is not supported by mycr");
  });
});
