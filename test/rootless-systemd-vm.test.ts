// Rootless mycr with limits on a real systemd host: test/vm/rootless-systemd.sh runs in
// the Debian 12 VM (systemd PID 1, pure cgroup v2; test/vm/run-in-debian.sh, the image
// built once and cached) as root, makes a user with subordinate ids and a lingering user
// manager, and drives mycr as that user: limits in a scope of the user's systemd, read
// back inside and from the host; pause, update, stats, stop, rm; a limit whose controller
// is not delegated refused; a user without a manager told once and refused limits;
// nothing left. Each of its checks is one test here, all from one boot. Skipped, saying
// why, only where the VM cannot be built or booted (no qemu, no mmdebstrap, not x64).
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { REPO } from "./helpers/env";
import { NOT_RUN, checkLine, debianVmUnavailable, expectVmRan, runVm } from "./helpers/vm";

const cannot = debianVmUnavailable();

let run = NOT_RUN;

beforeAll(async () => {
  if (cannot) return;
  run = await runVm([join(REPO, "test/vm/run-in-debian.sh"), join(REPO, "test/vm/rootless-systemd.sh")], { ...process.env, MYCR_VM_TIMEOUT: process.env.MYCR_VM_TIMEOUT ?? "1500" });
}, 3_000_000); // a first run builds the image (minutes); later ones boot the cached one

const CHECKS = [
  "the user's manager is running",
  "the user's bus is there",
  "info: the cgroup driver is the user's systemd",
  "run --memory 64m --pids-limit 20 exits 0",
  "memory.max and pids.max read back inside",
  "no 'no cgroup' notice",
  "id inside is root",
  "the foreground run leaves no scope",
  "run -d exits 0",
  "the scope is active in the user's manager",
  "the scope is delegated",
  "memory.max from the host's view of the user's tree",
  "pids.max from the host's view of the user's tree",
  "the user's systemd has MemoryMax and TasksMax",
  "the container's sleep is in the scope",
  "the scope's processes are the user's on the host",
  "ps lists web",
  "pause freezes the scope",
  "resume thaws it",
  "update --memory reaches memory.max and the user's systemd",
  "stats shows the limit",
  "stop + rm leave no scope",
  "stop + rm leave no cgroup",
  // applied or refused, as user@.service delegates the controller (the line says which)
  "--cpuset-cpus 0",
  "--cpus 0.5",
  "the refused runs leave no scope",
  // the OCI face as an ordinary user, and rootless podman with mycr as its runtime (issue 16)
  "ordinary user: --systemd-cgroup create exits 0",
  "ordinary user: the scope is the user manager's, delegated",
  "ordinary user: the limits are in the scope",
  "ordinary user: state says running",
  "ordinary user: pause freezes the scope",
  "ordinary user: update reaches memory.max and the user's systemd",
  "ordinary user: kill + delete leave no scope",
  "ordinary user: an undelegated controller is refused",
  "rootless podman's cgroup manager is systemd",
  "rootless podman --memory 64m reads back inside",
  "rootless podman run -d",
  "rootless podman: the container's scope is the user manager's",
  "rootless podman: memory.max from the host's view",
  "rootless podman exec",
  "rootless podman stop",
  "rootless podman rm",
  "rootless podman: no libpod scope left",
  "without a user manager info says none",
  "without a user manager --memory is refused",
  "without a user manager: the notice once",
  "without a user manager --systemd-cgroup create says what to set",
  "without a user manager the refused create leaves nothing",
  "no mycr scope's cgroup left in the user's tree",
  "no containers left",
  "no failed user units",
  "no mycr processes left",
];

if (cannot) {
  test.skip(`rootless systemd VM skipped: ${cannot}`, () => {});
} else {
  test("the Debian VM booted with systemd and ran the checks", () => {
    expectVmRan(run);
    expect(run.output).toMatch(/PID 1 is systemd, cgroup2fs/);
  });
  for (const name of CHECKS) {
    test(`rootless systemd: ${name}`, () => {
      expect(checkLine(run, name)).toStartWith(`PASS ${name}`);
    });
  }
}
