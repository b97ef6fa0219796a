// The systemd cgroup driver on a real systemd host: test/vm/systemd.sh runs inside a
// Debian 12 VM (systemd PID 1, pure cgroup v2; test/vm/run-in-debian.sh, the image built
// once with mmdebstrap and cached); each of its checks is one test here: mycr's own
// runtime face, org.systemd.property.* annotations, podman, containerd's CRI with
// SystemdCgroup = true (the pod flow of test/cri, compiled into one executable) and
// dockerd, all in one boot. Skipped, saying why, only where the VM cannot be built or
// booted (no qemu, no mmdebstrap, not x64).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Spec } from "../src/spec/types";
import { podFlowCheckNames } from "./cri/pod-flow";
import { VM_SCOPE_PROPERTIES } from "./cri/vm-main";
import { REPO, WORK } from "./helpers/env";
import { mycr } from "./helpers/mycr";
import { NOT_RUN, checkLine, debianVmUnavailable, expectVmRan, runVm } from "./helpers/vm";

const harness = join(REPO, "test/vm/run-in-debian.sh");
const cannot = debianVmUnavailable();

let run = NOT_RUN;
let dir = "";

/** The bundle's config: mycr spec's default, a sleep with limits in a named scope. */
async function writeConfig(to: string): Promise<void> {
  const r = await mycr(["spec", "--bundle", to]);
  if (r.exitCode !== 0) throw new Error(`mycr spec failed: ${r.stderr}`);
  const spec = JSON.parse(readFileSync(join(to, "config.json"), "utf8")) as Spec;
  spec.root = { path: "rootfs", readonly: true };
  spec.process!.terminal = false;
  spec.process!.args = ["sleep", "1000"];
  spec.linux!.cgroupsPath = "system.slice:mycr:sdtest";
  spec.linux!.resources = {
    ...spec.linux!.resources,
    memory: { limit: 64 * 1024 * 1024 },
    pids: { limit: 50 },
    cpu: { quota: 50000, period: 100000, shares: 512 },
    devices: [{ allow: false, access: "rwm" }], // as podman and containerd send
  };
  writeFileSync(join(to, "config.json"), JSON.stringify(spec, null, 2));
  // the same with extra unit properties, in the forms runc reads (GVariant text)
  spec.linux!.cgroupsPath = "system.slice:mycr:sdprop";
  spec.annotations = {
    "org.systemd.property.TimeoutStopSec": "42",
    "org.systemd.property.CollectMode": "'inactive-or-failed'",
    "org.systemd.property.MemoryHigh": "uint64 104857600",
    "org.systemd.property.IOAccounting": "true",
  };
  writeFileSync(join(to, "props.json"), JSON.stringify(spec, null, 2));
}

/** The CRI client and its pod flow as one executable for the guest (it has no Bun). */
function compileCriClient(to: string): void {
  const r = Bun.spawnSync([process.execPath, "build", "--compile", join(REPO, "test/cri/vm-main.ts"), "--outfile", to], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`bun build --compile test/cri/vm-main.ts: ${r.stderr.toString().trim()}`);
}

beforeAll(async () => {
  if (cannot) return;
  dir = mkdtempSync(join(WORK, "systemd-vm-"));
  await writeConfig(dir);
  compileCriClient(join(dir, "cri-pod"));
  const files = ["config.json", "props.json", "cri-pod"].map((f) => join(dir, f));
  // podman, the CRI and dockerd under TCG take a while: more than the harness's default 600 s
  run = await runVm([harness, join(REPO, "test/vm/systemd.sh"), ...files], { ...process.env, MYCR_VM_TIMEOUT: process.env.MYCR_VM_TIMEOUT ?? "2400" });
}, 3_000_000); // a first run builds the image (minutes); later ones boot the cached one

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const CHECKS = [
  "create with --systemd-cgroup",
  "the scope is active",
  "init is in the scope",
  "memory.max read back from the scope",
  "pids.max read back from the scope",
  "cpu.max read back from the scope",
  "cpu.weight read back from the scope",
  "systemd's own MemoryMax, TasksMax, CPUQuotaPerSecUSec, CPUWeight",
  "the scope is delegated",
  "systemctl status shows the container's process",
  "devices deny-all + allows become DevicePolicy=strict",
  "DeviceAllow lists /dev/null and the pts",
  "a device outside the list cannot be opened, /dev/null can",
  "update --memory changes memory.max",
  "update --pids-limit changes pids.max",
  "update reaches systemd (MemoryMax, TasksMax)",
  "the limits survive a daemon-reload",
  "delete leaves no scope",
  "delete leaves no cgroup",
  "a second scope is active",
  "delete --force leaves no scope",
  "delete --force leaves no cgroup",
  "a-b.slice nests in a.slice",
  "the nested scope is gone",
  "a setting the kernel refuses fails create",
  "the failed create leaves no scope",
  "a plain cgroupsPath is refused",
  "create with org.systemd.property.* annotations",
  "annotation TimeoutStopSec=42 is systemd's TimeoutStopUSec",
  "annotation CollectMode='inactive-or-failed'",
  "annotation MemoryHigh=uint64 104857600, in systemd and in memory.high",
  "annotation IOAccounting=true",
  "the annotated scope is gone",
  "mycr run puts the container in a scope",
  "mycr run's scope has --memory",
  "mycr run exits 0",
  "mycr run leaves no scope",
  "mycr run -d puts the container in a scope",
  "a run with the supervisor up is served by it",
  "the served run's scope has --memory",
  "the served run leaves only the detached container's scope",
  "mycr rm -f leaves no scope",
  "MYCR_CGROUP_MANAGER=cgroupfs: no scope",
  "gc after a killed mycr run leaves no scope",
  "no mycr scope's cgroup left anywhere",
  "no runtime state left",
  "no failed units",
  "podman's cgroup manager is systemd",
  "podman --runtime mycr run --rm",
  "podman --memory reaches the container's cgroup",
  "podman's container is in its libpod scope",
  "the scope has --pids-limit",
  "podman rm leaves no libpod scope",
  ...podFlowCheckNames(true, VM_SCOPE_PROPERTIES).map((name) => `cri: ${name}`),
  "cri: no pod scope left",
  "cri: no containerd left",
  "dockerd is running",
  "docker's cgroup driver is systemd",
  "docker run --runtime mycr --rm",
  "docker run -d: the container's scope is active",
  "docker --memory read back from the scope",
  "docker exec",
  "docker stop: killed after the grace period",
  "docker rm leaves no docker scope",
  "docker rm leaves no runtime state",
  "no failed units at the end",
];

if (cannot) {
  test.skip(`systemd VM skipped: ${cannot}`, () => {});
} else {
  test("the Debian VM booted with systemd and ran the checks", () => {
    expectVmRan(run);
    expect(run.output).toMatch(/PID 1 is systemd, cgroup2fs/);
  });
  for (const name of CHECKS) {
    test(`systemd: ${name}`, () => {
      expect(checkLine(run, name)).toStartWith(`PASS ${name}`);
    });
  }
}
