// Rootless start-up: `mycr run --rootfs <busybox> --network none -- /bin/true` as an
// ordinary user against `podman run --rootfs` as the same user (podman's own rootless
// path: its user namespace, then the OCI runtime runc; crun refuses hybrid cgroup hosts),
// and against mycr as root, interleaved; median wall times and ratios. Also `ps` as the
// user and as root: what entering the user namespace costs a command that does little.
// Makes the test user of test/helpers/rootless-user.ts and removes it again.
//   bun bench/rootless.ts [--runs 10]
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MYCR, WORK, mycrEnv } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";
import { ROOTLESS, asUser, createRootlessUser, removeRootlessUser } from "../test/helpers/rootless-user";

const { values } = parseArgs({ options: { runs: { type: "string", default: "10" } } });
const runs = Number(values.runs);

if (Bun.which("podman") === null || Bun.which("runc") === null) {
  console.error("bench: podman and runc are the reference (apt-get install podman runc)");
  process.exit(2);
}

function timeOnce(argv: string[], env?: Record<string, string>): number {
  const start = performance.now();
  const r = Bun.spawnSync(argv, { env, stdout: "ignore", stderr: "pipe" });
  const ms = performance.now() - start;
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const user = createRootlessUser();
const scratch = mkdtempSync(join(WORK, "bench-rootless-"));
chmodSync(scratch, 0o755);
try {
  const rootfs = join(scratch, "rootfs");
  Bun.spawnSync(["cp", "-a", busyboxRootfs(), rootfs]);
  Bun.spawnSync(["chown", "-R", `${user.uid}:${user.gid}`, rootfs]);
  const asUserEnv = ["env", `HOME=${ROOTLESS.home}`, `XDG_RUNTIME_DIR=${ROOTLESS.runtimeDir}`];
  const podman = [
    "setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", ...asUserEnv,
    "podman", "--log-level=error", "--runtime", "runc", "run", "--rm", "--network", "none", "--rootfs", rootfs, "/bin/true",
  ];
  const cases: Record<string, () => number> = {
    "mycr run, rootless": () => timeOnce(asUser(user, ["run", "--rootfs", rootfs, "--network", "none", "--", "/bin/true"])),
    "podman run, rootless (runc)": () => timeOnce(podman),
    "mycr run, root": () => timeOnce([MYCR, "run", "--rootfs", rootfs, "--network", "none", "--", "/bin/true"], mycrEnv()),
    "mycr ps, rootless": () => timeOnce(asUser(user, ["ps"])),
    "mycr ps, root": () => timeOnce([MYCR, "ps"], mycrEnv()),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const run of Object.values(cases)) run(); // warm-up: podman makes its storage, mycr compiles nothing ahead
  for (let i = 0; i < runs; i++) for (const [name, run] of Object.entries(cases)) times[name]!.push(run());
  const m = (name: string) => median(times[name]!);
  console.log(`runs: ${runs} each, interleaved; load average ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}`);
  for (const name of Object.keys(cases)) console.log(`${name}: median ${m(name).toFixed(1)} ms (min ${Math.min(...times[name]!).toFixed(1)})`);
  console.log(`ratio mycr rootless / podman rootless: ${(m("mycr run, rootless") / m("podman run, rootless (runc)")).toFixed(2)}`);
  console.log(`ratio mycr rootless / mycr root (run): ${(m("mycr run, rootless") / m("mycr run, root")).toFixed(2)}`);
  console.log(`rootless entry cost (ps): ${(m("mycr ps, rootless") - m("mycr ps, root")).toFixed(1)} ms`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
  removeRootlessUser();
}
