// Pure cgroup v2 on a real kernel: test/vm/cgroup-v2.sh runs the cgroup assertions
// inside a qemu VM (test/vm/run-in-vm.sh); each of its checks is one test here.
import { beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./helpers/env";

const harness = join(REPO, "test/vm/run-in-vm.sh");
const canBoot = existsSync("/usr/bin/qemu-system-x86_64") && process.arch === "x64";
let output = "";
let errors = "";
let exitCode = -1;

beforeAll(async () => {
  if (!canBoot) return;
  // loop: the blockIO checks throttle a loop device
  const env = { ...process.env, MYCR_VM_MODULES: "overlay loop" };
  const proc = Bun.spawn([harness, join(REPO, "test/vm/cgroup-v2.sh")], { stdout: "pipe", stderr: "pipe", env });
  [output, errors] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  exitCode = await proc.exited;
}, 600_000);

const CHECKS = [
  "memory.max, memory.low and no extra swap",
  "cpu.max from --cpus",
  "cpu.weight from --cpu-shares (runc's conversion)",
  "cpuset.cpus",
  "pids.max",
  "oom_score_adj",
  "cgroup namespace rooted at the container",
  "/sys/fs/cgroup is a read-only cgroup2 mount",
  "OOM kill exits 137",
  "OOM kill is reported from memory.events",
  "a fork bomb fails under --pids-limit",
  "the host still forks after the bomb",
  "--cpus 0.5 holds a busy loop to about half a CPU",
  "mycr run: /dev/null and /dev/zero open",
  "mycr run: mknod of a disk works, opening it fails with EPERM",
  "mycr run --privileged: no device rule stops a disk node",
  "OCI bundle with a deny-all first rule runs (as podman sends it)",
  "OCI bundle: the write the rules leave out fails with EPERM",
  "update with new device rules replaces the program",
  "delete removes the container's cgroup (and its program)",
  "a bad device rule is refused with one line naming it (125)",
  "blockIO throttles are io.max lines of the device",
  "blockIO weight is io.weight (runc's conversion)",
  "mycr stats reads memory.max",
  "nothing left in /sys/fs/cgroup after gc",
  "no runtime state left",
  "cpuset outside the host's CPUs is refused (125)",
];

test.if(canBoot)("the VM booted on pure cgroup v2 and ran the checks", () => {
  // the harness says on stderr why a VM did not run (a kernel package it could not fetch, ...)
  if (!output.includes("MYCR-VM-EXIT=")) throw new Error(`the VM did not run (exit ${exitCode}): ${errors.trim().split("\n").slice(-5).join(" | ")}`);
  expect(exitCode).toBe(0);
});

for (const name of CHECKS) {
  test.if(canBoot)(`cgroup v2: ${name}`, () => {
    const line = output.split("\n").find((l) => l.startsWith(`PASS ${name}`) || l.startsWith(`FAIL ${name}`));
    expect(line ?? `(no result for "${name}")`).toStartWith(`PASS ${name}`);
  });
}
