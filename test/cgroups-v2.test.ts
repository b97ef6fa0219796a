// Pure cgroup v2 on a real kernel: test/vm/cgroup-v2.sh runs the cgroup assertions
// inside a qemu VM (test/vm/run-in-vm.sh); each of its checks is one test here.
import { beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./helpers/env";
import { NOT_RUN, checkLine, expectVmRan, runVm } from "./helpers/vm";

const harness = join(REPO, "test/vm/run-in-vm.sh");
const canBoot = existsSync("/usr/bin/qemu-system-x86_64") && process.arch === "x64";
let run = NOT_RUN;

beforeAll(async () => {
  if (!canBoot) return;
  // loop: the blockIO checks throttle a loop device
  const env = { ...process.env, MYCR_VM_MODULES: "overlay loop" };
  run = await runVm([harness, join(REPO, "test/vm/cgroup-v2.sh")], env);
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
  expectVmRan(run);
});

for (const name of CHECKS) {
  test.if(canBoot)(`cgroup v2: ${name}`, () => {
    expect(checkLine(run, name)).toStartWith(`PASS ${name}`);
  });
}
