// containerd's CRI with mycr as the runtime, driven the way the kubelet drives it, with
// the cgroupfs cgroup driver (the kubelet's other driver; the systemd one runs in the
// Debian VM, test/systemd-vm.test.ts). The test starts a containerd of its own (own
// root, state, socket, CNI config: test/cri/containerd.ts), imports a pause and a
// busybox image built here, runs one pod through the CRI gRPC API (test/cri/pod-flow.ts)
// and then removes everything, as the kubelet would: the pod's cgroup parent, the test
// bridge, containerd's directories.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MYCR } from "./helpers/env";
import { connectCri } from "./cri/client";
import { CNI_BIN_DIRS, POD_BRIDGE, startCriDaemon, type CriDaemon } from "./cri/containerd";
import { importImages } from "./cri/images";
import { podFlow, podFlowCheckNames, STEPS_RAN, type Check } from "./cri/pod-flow";

const have = (cmd: string) => Bun.which(cmd) !== null;
const cni = CNI_BIN_DIRS.find((d) => ["bridge", "host-local", "loopback"].every((p) => existsSync(join(d, p))));
const cannot = !have("containerd") || !have("ctr") || !have("containerd-shim-runc-v2") ? "containerd is not installed (apt-get install containerd)"
  : !cni ? "the CNI plugins are not installed (apt-get install containernetworking-plugins)"
  : null;

// The pod's cgroup parent, as the kubelet makes one per pod (and removes it afterwards).
const CGROUP_PARENT = `/mycr-cri-${process.pid}`;

let dir = "";
let daemon: CriDaemon | null = null;
let checks: Check[] = [];

beforeAll(async () => {
  if (cannot) return;
  // under /tmp: containerd's socket path must stay short
  dir = mkdtempSync("/tmp/mycr-cri-");
  daemon = await startCriDaemon({ dir, mycr: MYCR, systemdCgroup: false });
  importImages(daemon.socket, dir);
  const cri = connectCri(daemon.socket);
  try {
    const logDir = join(dir, "logs");
    mkdirSync(logDir);
    checks = await podFlow({ cri, daemon, systemd: false, cgroupParent: CGROUP_PARENT, logDir });
  } finally {
    cri.close();
  }
}, 300_000);

afterAll(async () => {
  if (!dir) return;
  if (daemon) {
    Bun.spawnSync(["ctr", "-a", daemon.socket, "-n", "k8s.io", "images", "rm", "localhost/mycr-pause:1", "localhost/mycr-cri-busybox:1"]);
    await daemon.stop();
  }
  // What the kubelet removes itself: the pod's cgroup parent (in every hierarchy) ...
  // (a parent still busy is a leak the runner's check names: it has "mycr" in it)
  for (const top of ["", ...readdirSync("/sys/fs/cgroup")]) {
    const parent = join("/sys/fs/cgroup", top, CGROUP_PARENT);
    try {
      if (existsSync(parent)) rmdirSync(parent);
    } catch {
      // judged by the leak check
    }
  }
  // ... and what a node's network setup owns: the bridge (the CNI plugin never deletes it).
  Bun.spawnSync(["ip", "link", "del", POD_BRIDGE], { stderr: "ignore" });
  // containerd leaves its snapshot mounts to its next start
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m.startsWith(dir));
  for (const m of mounts.sort().reverse()) Bun.spawnSync(["umount", "-l", m]);
  rmSync(dir, { recursive: true, force: true });
});

if (cannot) {
  test.skip(`CRI skipped: ${cannot}`, () => {});
} else {
  const names = podFlowCheckNames(false);
  test("the pod's steps ran to the end, every check named", () => {
    expect(checks.find((c) => c.name === STEPS_RAN)?.detail ?? "ran").toBe("ran");
    expect(checks.map((c) => c.name).filter((n) => !names.includes(n) && n !== STEPS_RAN)).toEqual([]);
  });
  for (const name of names) {
    test(`CRI (cgroupfs): ${name}`, () => {
      const check = checks.find((c) => c.name === name);
      expect(check ? `${check.pass ? "PASS" : "FAIL"}: ${check.detail}` : "(no result)").toStartWith("PASS");
    });
  }
}
