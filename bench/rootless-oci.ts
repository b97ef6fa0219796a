// The OCI runtime face without root: as an ordinary user, `mycr run --bundle` of a
// `runc spec --rootless` bundle (busybox, /bin/true) against `runc run` of the same
// bundle as the same user, and rootless `podman run --rm` with mycr as its runtime
// against podman with runc; interleaved, median wall times and ratios.
// Makes the test user of test/helpers/rootless-user.ts and removes it again.
//   bun bench/rootless-oci.ts [--runs 10] [--podman-runs 5]
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MYCR } from "../test/helpers/env";
import { ROOTLESS, asUser, createRootlessUser, removeRootlessUser } from "../test/helpers/rootless-user";
import { userScratch } from "../test/helpers/rootless-scratch";
import { timeOnce } from "./timing";

const { values } = parseArgs({ options: { runs: { type: "string", default: "10" }, "podman-runs": { type: "string", default: "5" } } });
const runs = Number(values.runs);
const podmanRuns = Number(values["podman-runs"]);

if (Bun.which("podman") === null || Bun.which("runc") === null) {
  console.error("bench: podman and runc are the reference (apt-get install podman runc)");
  process.exit(2);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const user = createRootlessUser();
const { scratch, rootfs } = userScratch(user, "bench-rootless-oci-");
let pausePid = "";
try {
  const bundle = join(scratch, "bundle");
  mkdirSync(bundle);
  chownSync(bundle, user.uid, user.gid);
  Bun.spawnSync(asUser(user, ["spec", "--rootless", "--bundle", bundle], {}, "runc"));
  const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
  Object.assign(spec, { root: { path: rootfs, readonly: true } });
  Object.assign(spec.process, { terminal: false, args: ["/bin/true"] });
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  const tar = join(scratch, "rootfs.tar");
  Bun.spawnSync(["tar", "-C", rootfs, "-cf", tar, "."]);
  chownSync(tar, user.uid, user.gid);
  Bun.spawnSync(asUser(user, ["import", "-q", tar, "localhost/bench-busybox:1"], {}, "podman"));
  let n = 0;
  const podman = (runtime: string) => asUser(user, ["--cgroup-manager", "cgroupfs", "--runtime", runtime, "run", "--rm", "--network", "none", "localhost/bench-busybox:1", "/bin/true"], {}, "podman");
  const oci: Record<string, () => number> = {
    "mycr run --bundle, rootless": () => timeOnce(asUser(user, ["run", "--bundle", bundle, `b${++n}`])),
    "runc run, rootless": () => timeOnce(asUser(user, ["--root", join(ROOTLESS.runtimeDir, "runc"), "run", "--bundle", bundle, `b${++n}`], {}, "runc")),
  };
  const viaPodman: Record<string, () => number> = {
    "podman --runtime mycr, rootless": () => timeOnce(podman(MYCR)),
    "podman --runtime runc, rootless": () => timeOnce(podman("runc")),
  };
  const times: Record<string, number[]> = Object.fromEntries([...Object.keys(oci), ...Object.keys(viaPodman)].map((k) => [k, []]));
  for (const run of [...Object.values(oci), ...Object.values(viaPodman)]) run(); // warm-up
  for (let i = 0; i < runs; i++) for (const [name, run] of Object.entries(oci)) times[name]!.push(run());
  for (let i = 0; i < podmanRuns; i++) for (const [name, run] of Object.entries(viaPodman)) times[name]!.push(run());
  const m = (name: string) => median(times[name]!);
  console.log(`runs: ${runs} (podman: ${podmanRuns}) each, interleaved; load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
  for (const name of Object.keys(times)) console.log(`${name}: median ${m(name).toFixed(1)} ms (min ${Math.min(...times[name]!).toFixed(1)})`);
  console.log(`ratio mycr / runc (run --bundle, rootless): ${(m("mycr run --bundle, rootless") / m("runc run, rootless")).toFixed(2)}`);
  console.log(`ratio podman with mycr / with runc (rootless): ${(m("podman --runtime mycr, rootless") / m("podman --runtime runc, rootless")).toFixed(2)}`);
  pausePid = readFileSync(join(ROOTLESS.runtimeDir, "libpod/tmp/pause.pid"), "utf8").trim();
} finally {
  if (pausePid) Bun.spawnSync(["kill", "-KILL", pausePid]); // podman's pause process keeps its user namespace
  await Bun.sleep(200);
  rmSync(scratch, { recursive: true, force: true });
  removeRootlessUser();
}
