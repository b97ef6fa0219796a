// What a user checks first: the container is PID 1 in its own little world.
import { describe, expect, test, beforeAll } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TEST_ROOT, TEST_STATE } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
beforeAll(() => {
  rootfs = busyboxRootfs();
});

const sh = (script: string) => ["run", "--rootfs", rootfs, "--", "/bin/sh", "-c", script];
const noNet = (script: string) => ["run", "--rootfs", rootfs, "--network", "none", "--", "/bin/sh", "-c", script];

describe("namespaces", () => {
  test("the command is PID 1 and sees only its own processes", async () => {
    const r = await mycr(sh("echo pid=$$; ls /proc | grep -E '^[0-9]+$' | wc -l"));
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const [pid, count] = r.stdout.trim().split("\n");
    expect(pid).toBe("pid=1");
    // sh itself and the ls/grep/wc of the pipeline
    expect(Number(count)).toBeLessThanOrEqual(4);
  });

  test("hostname defaults to the first 12 characters of the container id", async () => {
    const host = readFileSync("/proc/sys/kernel/hostname", "utf8").trim();
    const r = await mycr(sh("hostname; echo $HOSTNAME"));
    const [name, env] = r.stdout.trim().split("\n");
    expect(name).toMatch(/^[0-9a-f]{12}$/);
    expect(env).toBe(name!);
    expect(readFileSync("/proc/sys/kernel/hostname", "utf8").trim()).toBe(host);
  });

  test("--hostname sets the name, and changing it inside does not touch the host", async () => {
    const host = readFileSync("/proc/sys/kernel/hostname", "utf8").trim();
    // changing it needs CAP_SYS_ADMIN, which a default container does not have (as with docker)
    const r = await mycr(["run", "--rootfs", rootfs, "--hostname", "box", "--cap-add", "SYS_ADMIN", "--", "/bin/sh", "-c", "hostname; hostname changed; hostname"]);
    expect(r.stdout.trim().split("\n")).toEqual(["box", "changed"]);
    expect(readFileSync("/proc/sys/kernel/hostname", "utf8").trim()).toBe(host);
  });

  test("with --network none only the loopback interface exists, and it is up", async () => {
    const r = await mycr(noNet("ls /sys/class/net; cat /sys/class/net/lo/operstate; ping -c1 -W1 127.0.0.1 >/dev/null && echo ping-ok"));
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("lo");
    expect(lines).toContain("ping-ok");
  });

  test("SysV IPC objects of the host are not visible inside", async () => {
    const made = Bun.spawnSync(["ipcmk", "-Q"]).stdout.toString();
    const id = /(\d+)/.exec(made)?.[1];
    expect(id).toBeDefined();
    try {
      const hostView = readFileSync("/proc/sysvipc/msg", "utf8").trim().split("\n").length;
      expect(hostView).toBeGreaterThan(1);
      const r = await mycr(sh("cat /proc/sysvipc/msg | wc -l"));
      expect(r.stdout.trim()).toBe("1"); // the header line only
    } finally {
      Bun.spawnSync(["ipcrm", "-q", id!]);
    }
  });

  test("the container has its own cgroup namespace", async () => {
    const r = await mycr(sh("readlink /proc/self/ns/cgroup; readlink /proc/self/ns/mnt"));
    const [cg, mnt] = r.stdout.trim().split("\n");
    const { readlinkSync } = await import("node:fs");
    expect(cg).not.toBe(readlinkSync("/proc/self/ns/cgroup"));
    expect(mnt).not.toBe(readlinkSync("/proc/self/ns/mnt"));
  });
});

describe("root filesystem", () => {
  test("a file written inside appears neither on the host nor in the lower layer", async () => {
    const marker = `mycr-test-${process.pid}-${Date.now()}`;
    const r = await mycr(sh(`echo hi > /${marker} && cat /${marker} && touch /bin/${marker}`));
    expect(r.stdout.trim()).toBe("hi");
    expect(existsSync(join(rootfs, marker))).toBe(false);
    expect(existsSync(join(rootfs, "bin", marker))).toBe(false);
    expect(existsSync(`/${marker}`)).toBe(false);
  });

  test("a deleted file of the lower layer stays in the lower layer", async () => {
    const r = await mycr(sh("rm /etc/passwd && ls /etc/passwd 2>&1; echo done"));
    expect(r.stdout).toContain("done");
    expect(existsSync(join(rootfs, "etc/passwd"))).toBe(true);
  });

  test("without --rootfs the host's root is the read-only lower layer", async () => {
    const hostFile = readFileSync("/etc/os-release", "utf8");
    const marker = `/etc/mycr-test-${process.pid}`;
    const r = await mycr(["run", "--", "/bin/sh", "-c", `cat /etc/os-release; echo x > ${marker}; echo pid=$$`]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(hostFile.trim());
    expect(r.stdout).toContain("pid=1");
    expect(existsSync(marker)).toBe(false);
  });

  test("with the host's root, mycr's own stores are hidden inside", async () => {
    const r = await mycr(["run", "--", "/bin/sh", "-c", `(ls -A ${TEST_ROOT}; ls -A ${TEST_STATE}) | wc -l`]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe("0");
  });

  test("/proc, /dev, /sys and /tmp are fresh and as expected", async () => {
    const r = await mycr(
      sh(
        [
          "ls /dev | sort | tr '\\n' ' '; echo",
          "for l in /dev/fd /dev/stdin /dev/ptmx; do readlink $l; done | tr '\\n' ' '; echo",
          "stat -c '%t:%T' /dev/null /dev/zero /dev/urandom | tr '\\n' ' '; echo",
          "grep -E ' /(proc|dev|sys|tmp|dev/pts|dev/shm|dev/mqueue) ' /proc/self/mounts | cut -d' ' -f2,3,4 | cut -d, -f1",
          "touch /sys/x 2>/dev/null || echo sys-readonly",
          "echo ok > /tmp/t && cat /tmp/t",
        ].join("; "),
      ),
    );
    const lines = r.stdout.trim().split("\n");
    for (const dev of ["full", "mqueue", "null", "ptmx", "pts", "random", "shm", "tty", "urandom", "zero", "fd", "stdin", "stdout", "stderr"]) {
      expect(lines[0]!.split(" ")).toContain(dev);
    }
    expect(lines[1]!.trim()).toBe("/proc/self/fd /proc/self/fd/0 pts/ptmx");
    expect(lines[2]!.trim()).toBe("1:3 1:5 1:9");
    const mounts = lines.slice(3).join("\n");
    expect(mounts).toContain("/proc proc rw");
    expect(mounts).toContain("/dev tmpfs rw");
    expect(mounts).toContain("/dev/pts devpts rw");
    expect(mounts).toContain("/dev/shm tmpfs rw");
    expect(mounts).toContain("/dev/mqueue mqueue rw");
    expect(mounts).toContain("/sys sysfs ro");
    expect(mounts).toContain("/tmp tmpfs rw");
    expect(lines).toContain("sys-readonly");
    expect(lines[lines.length - 1]).toBe("ok");
  });

  test("the root is entered with pivot_root: none of the host's mounts is left", async () => {
    const r = await mycr(sh("cut -d' ' -f5 /proc/self/mountinfo"));
    const points = r.stdout.trim().split("\n");
    expect(points.filter((p) => p === "/")).toHaveLength(1);
    const expected = /^\/($|proc($|\/)|dev($|\/)|sys($|\/)|tmp$|etc\/(resolv\.conf|hosts)$)/;
    expect(points.filter((p) => !expected.test(p))).toEqual([]);
  });
});

describe("process", () => {
  test("the command is exec'd directly, arguments intact", async () => {
    const r = await mycr(["run", "--rootfs", rootfs, "/bin/echo", "a  b", "$HOME", "*"]);
    expect(r.stdout).toBe("a  b $HOME *\n");
  });

  test("flags after the command belong to the command", async () => {
    const r = await mycr(["run", "--rootfs", rootfs, "ls", "-d", "/bin"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe("/bin");
  });

  test("PATH, HOME and the working directory have sensible defaults", async () => {
    const r = await mycr(sh("echo $PATH; echo $HOME; pwd"));
    expect(r.stdout.trim().split("\n")).toEqual(["/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "/root", "/"]);
  });

  test("stdin is passed through and EOF reaches the command", async () => {
    const r = await mycr(["run", "--rootfs", rootfs, "cat"], { stdin: "line one\nline two\n" });
    expect(r.stdout).toBe("line one\nline two\n");
    expect(r.exitCode).toBe(0);
  });

  test("no file descriptor of mycr leaks into the container", async () => {
    const r = await mycr(sh("ls /proc/self/fd | tr '\\n' ' '"), { stdin: "" });
    // 0-2 and the fd ls opened on /proc/self/fd itself
    expect(r.stdout.trim().split(" ").map(Number).filter((fd) => fd > 3)).toEqual([]);
  });
});
