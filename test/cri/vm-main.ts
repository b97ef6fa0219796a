// The CRI pod flow inside the Debian VM (test/vm/systemd.sh runs it, compiled to one
// executable by test/systemd-vm.test.ts): containerd with `SystemdCgroup = true`, as the
// kubelet's recommended driver has it, mycr at /bin/mycr as its runc. Prints one
// "PASS cri: <check>" or "FAIL cri: <check>: <why>" line per check; exits 1 if any failed.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { connectCri } from "./client";
import { startCriDaemon } from "./containerd";
import { importImages } from "./images";
import { podFlow, type Check, type ScopeProperty } from "./pod-flow";

/** The pod's slice, as the kubelet's systemd driver names pods' parents. */
export const VM_POD_SLICE = "mycrcri.slice";

/** Annotations CRI passes on (container_annotations) and what systemd must show for them. */
export const VM_SCOPE_PROPERTIES: ScopeProperty[] = [
  { annotation: "org.systemd.property.TimeoutStopSec", value: "17", property: "TimeoutStopUSec", shown: "17s" },
  { annotation: "org.systemd.property.CollectMode", value: "'inactive-or-failed'", property: "CollectMode", shown: "inactive-or-failed" },
];

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
/** A check as the line test/systemd-vm.test.ts reads, printed as soon as it is made (a later hang keeps it). */
const print = (c: Check) => console.log(c.pass ? `PASS cri: ${c.name} (${c.detail})` : `FAIL cri: ${c.name}: ${c.detail}`);

/** Runs the pod; the checks as PASS/FAIL lines. */
async function main(): Promise<number> {
  const dir = "/run/mycr-cri";
  let checks: Check[] = [];
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "logs"), { recursive: true });
  try {
    console.log(`cri step (${elapsed()}): containerd`);
    const daemon = await startCriDaemon({ dir, mycr: "/bin/mycr", systemdCgroup: true });
    try {
      console.log(`cri step (${elapsed()}): images`);
      importImages(daemon.socket, dir);
      const cri = connectCri(daemon.socket);
      try {
        checks = await podFlow({ cri, daemon, systemd: true, cgroupParent: VM_POD_SLICE, logDir: join(dir, "logs"), scopeProperties: VM_SCOPE_PROPERTIES, progress: (s) => console.log(`cri step (${elapsed()}): ${s}`), onCheck: print });
      } finally {
        cri.close();
      }
    } finally {
      await daemon.stop();
    }
  } catch (e) {
    checks.push({ name: "containerd's CRI started", pass: false, detail: (e as Error).message });
    print(checks.at(-1)!);
  }
  return checks.every((c) => c.pass) ? 0 : 1;
}

// (the test imports the settings above without running the pod)
if (import.meta.main) process.exit(await main());
