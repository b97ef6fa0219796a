// Device rules as an eBPF program (what cgroup v2 hosts get), loaded for real: the
// program goes on a cgroup in this host's cgroup2 tree (on a hybrid host the controller-
// less /sys/fs/cgroup/unified, where device programs apply all the same), and a shell
// moved into that cgroup opens and makes device nodes. test/vm/cgroup-v2.sh checks the
// same through `mycr run` on a pure cgroup v2 kernel.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, rmdirSync, mkdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { hostCgroups } from "../src/cgroups/hierarchy";
import { setDeviceRules } from "../src/cgroups/device-program";
import { CgroupError } from "../src/cgroups/types";
import { DEFAULT_DEVICE_RULES, withDefaultDevices } from "../src/security/devices";
import { attachedDevicePrograms, close, loadDeviceProgram, openat, AT_FDCWD, O_RDONLY, O_DIRECTORY, O_CLOEXEC } from "../src/sys";
import type { DeviceCgroupRule } from "../src/spec/types";
import { REPO } from "./helpers/env";

const unified = hostCgroups().unified;
let dir = "";
let tmp = "";
let n = 0;

beforeAll(() => {
  tmp = mkdtempSync("/tmp/mycr-devtest-");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh cgroup per test: a program attached to one never leaks into the next. */
function freshCgroup(): string {
  dir = join(unified!, `mycr-devtest-${process.pid}-${++n}`);
  mkdirSync(dir);
  return dir;
}

afterEach(async () => {
  for (let i = 0; dir && existsSync(dir); i++) {
    try {
      rmdirSync(dir); // its programs go with it
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EBUSY" || i > 200) throw e;
      await Bun.sleep(10);
    }
  }
  dir = "";
});

const rule = (allow: boolean, type: "a" | "c" | "b", major: number | null, minor: number | null, access: string): DeviceCgroupRule => ({ allow, type, major, minor, access });

/** Runs a shell command in the cgroup; "ok" or the error the shell reports ("EPERM", ...). */
function inCgroup(cgroup: string, command: string): string {
  const r = Bun.spawnSync(["sh", "-c", `echo $$ > ${cgroup}/cgroup.procs && ${command}`], { stdout: "pipe", stderr: "pipe" });
  const err = r.stderr.toString();
  if (r.exitCode === 0) return "ok";
  if (err.includes("Operation not permitted")) return "EPERM";
  return `failed (${r.exitCode}): ${err.trim()}`;
}

const read = (cgroup: string, path: string) => inCgroup(cgroup, `exec 3<${path}`);
const write = (cgroup: string, path: string) => inCgroup(cgroup, `exec 3>${path}`);
const readWrite = (cgroup: string, path: string) => inCgroup(cgroup, `exec 3<>${path}`);
/** A device node made by the test itself (outside any filter): the host may have no /dev/mem. */
function hostNode(type: "b" | "c", major: number, minor: number): string {
  const node = join(tmp, `host-${type}-${major}-${minor}`);
  if (!existsSync(node)) expect(Bun.spawnSync(["mknod", node, type, String(major), String(minor)]).exitCode).toBe(0);
  return node;
}

const mknod = (cgroup: string, type: "b" | "c", major: number, minor: number) => {
  const node = join(tmp, `node-${++n}`);
  return inCgroup(cgroup, `mknod ${node} ${type} ${major} ${minor}`);
};

describe.if(unified !== null)("device rules as an eBPF program", () => {
  test("docker's rules: /dev/null and /dev/zero open, mem, kmsg and disks do not", () => {
    const cg = freshCgroup();
    setDeviceRules(cg, DEFAULT_DEVICE_RULES);
    expect(readWrite(cg, "/dev/null")).toBe("ok");
    expect(read(cg, "/dev/zero")).toBe("ok");
    expect(read(cg, "/dev/urandom")).toBe("ok");
    expect(read(cg, hostNode("c", 1, 1))).toBe("EPERM"); // mem
    expect(read(cg, hostNode("c", 1, 11))).toBe("EPERM"); // kmsg
    expect(read(cg, hostNode("b", 8, 0))).toBe("EPERM"); // the first disk
  });

  test("docker's rules: mknod of a disk works, opening the node fails with EPERM", () => {
    const cg = freshCgroup();
    setDeviceRules(cg, DEFAULT_DEVICE_RULES);
    const disk = join(tmp, "sda");
    expect(inCgroup(cg, `mknod ${disk} b 8 0`)).toBe("ok");
    expect(read(cg, disk)).toBe("EPERM");
    expect(write(cg, disk)).toBe("EPERM");
    const mem = join(tmp, "mem");
    expect(inCgroup(cg, `mknod ${mem} c 1 1`)).toBe("ok");
    expect(read(cg, mem)).toBe("EPERM");
  });

  test("podman's list (deny-all first, then allows) with the runtime's default devices appended", () => {
    const cg = freshCgroup();
    const podman = [rule(false, "a", null, null, "rwm"), rule(true, "c", 10, 200, "rwm")];
    setDeviceRules(cg, withDefaultDevices({ devices: podman })!.devices!);
    expect(readWrite(cg, "/dev/null")).toBe("ok"); // a default device
    expect(read(cg, "/dev/zero")).toBe("ok");
    expect(read(cg, hostNode("c", 1, 1))).toBe("EPERM");
    // the defaults include runc's "c *:* m" and "b *:* m": nodes can be made, not opened
    const disk = join(tmp, "podman-sda");
    expect(inCgroup(cg, `mknod ${disk} b 8 0`)).toBe("ok");
    expect(read(cg, disk)).toBe("EPERM");
  });

  test("without m in any rule, mknod of a device fails with EPERM; with it, it works", () => {
    const cg = freshCgroup();
    setDeviceRules(cg, [rule(false, "a", null, null, "rwm"), rule(true, "c", 1, 3, "rw")]);
    expect(mknod(cg, "c", 1, 3)).toBe("EPERM");
    expect(readWrite(cg, "/dev/null")).toBe("ok");
    setDeviceRules(cg, [rule(false, "a", null, null, "rwm"), rule(true, "c", 1, 3, "rwm")]);
    expect(mknod(cg, "c", 1, 3)).toBe("ok");
    expect(mknod(cg, "c", 1, 5)).toBe("EPERM");
  });

  test("the last matching rule wins: a deny after an allow refuses, an allow after a deny permits", () => {
    const cg = freshCgroup();
    setDeviceRules(cg, [rule(true, "a", null, null, "rwm"), rule(false, "c", 1, 5, "rwm"), rule(true, "c", 1, null, "r")]);
    expect(read(cg, "/dev/zero")).toBe("ok"); // the later "c 1:* r" allows reading it again
    expect(write(cg, "/dev/zero")).toBe("EPERM"); // writing is still denied by "c 1:5"
    expect(readWrite(cg, "/dev/null")).toBe("ok"); // the first rule
  });

  test("a deny of write alone refuses a read-write open but lets reads through", () => {
    const cg = freshCgroup();
    setDeviceRules(cg, [rule(true, "a", null, null, "rwm"), rule(false, "c", 1, 3, "w")]);
    expect(read(cg, "/dev/null")).toBe("ok");
    expect(write(cg, "/dev/null")).toBe("EPERM");
    expect(readWrite(cg, "/dev/null")).toBe("EPERM");
  });

  test("read and write allowed by separate rules permit a read-write open", () => {
    const cg = freshCgroup();
    setDeviceRules(cg, [rule(false, "a", null, null, "rwm"), rule(true, "c", 1, 3, "r"), rule(true, "c", 1, 3, "w")]);
    expect(readWrite(cg, "/dev/null")).toBe("ok");
  });

  test("a minor of -1 and an absent minor both mean any minor; type b does not match a char device", () => {
    const cg = freshCgroup();
    setDeviceRules(cg, [rule(false, "a", null, null, "rwm"), { allow: true, type: "c", major: 1, minor: -1, access: "r" }, { allow: true, type: "b", major: 1, access: "w" }]);
    expect(read(cg, "/dev/null")).toBe("ok");
    expect(read(cg, "/dev/zero")).toBe("ok");
    expect(write(cg, "/dev/null")).toBe("EPERM");
  });

  test("rules given again replace the program: one program on the cgroup, the new rules apply", () => {
    const cg = freshCgroup();
    setDeviceRules(cg, [rule(false, "a", null, null, "rwm"), rule(true, "c", 1, 3, "rwm")]);
    expect(read(cg, "/dev/zero")).toBe("EPERM");
    setDeviceRules(cg, [rule(false, "a", null, null, "rwm"), rule(true, "c", 1, 5, "rwm")]);
    expect(read(cg, "/dev/zero")).toBe("ok");
    expect(read(cg, "/dev/null")).toBe("EPERM");
    const fd = openat(AT_FDCWD, cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    try {
      expect(attachedDevicePrograms(fd)).toHaveLength(1);
    } finally {
      close(fd);
    }
  });

  test("the program stays on the cgroup after the process that attached it exits", () => {
    const cg = freshCgroup();
    const script = `import { setDeviceRules } from "${REPO}/src/cgroups/device-program"; setDeviceRules(${JSON.stringify(cg)}, [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }]);`;
    const r = Bun.spawnSync([process.execPath, "-e", script], { stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    expect(read(cg, "/dev/null")).toBe("ok");
    expect(read(cg, "/dev/zero")).toBe("EPERM");
  });

  test("a bad rule is one error naming the field", () => {
    const cg = freshCgroup();
    const bad = (r: DeviceCgroupRule) => {
      try {
        setDeviceRules(cg, [r]);
        return "accepted";
      } catch (e) {
        expect(e).toBeInstanceOf(CgroupError);
        return (e as Error).message;
      }
    };
    expect(bad({ allow: true, type: "c", major: 1, minor: 3, access: "rwx" })).toBe('linux.resources.devices[0].access: must be a combination of r, w and m, not "rwx"');
    expect(bad({ allow: true, type: "u" as "c", access: "r" })).toBe('linux.resources.devices[0].type: must be a, c or b, not "u"');
    expect(bad({ allow: true, type: "c", major: -2, access: "r" })).toBe("linux.resources.devices[0].major: must be a device number or -1 (any), not -2");
    expect(read(cg, "/dev/zero")).toBe("ok"); // nothing was attached
  });

  test("a program the kernel refuses is reported with the verifier's reason", () => {
    // "exit" with r0 never set
    const program = new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => loadDeviceProgram(program, "mycr_test")).toThrow(/bpf\(BPF_PROG_LOAD, cgroup_device, 1 instructions; verifier: .*R0 !read_ok.*\): EACCES/);
  });
});
