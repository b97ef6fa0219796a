// Start-up time: `mycr run --rootfs <busybox> --network none -- /bin/true` (runc's
// bundle has an empty network namespace too) against `runc run` of the
// same root filesystem, interleaved so both see the same machine, median wall times
// and their ratio printed. Target: mycr <= 0.6 x runc.
//   bun bench/start.ts [--runs 20]
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MYCR, WORK, mycrEnv } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";
import { median, timeOnce } from "./timing";

const { values } = parseArgs({ options: { runs: { type: "string", default: "20" } } });
const runs = Number(values.runs);

function which(cmd: string): string | null {
  const r = Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]);
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

const runc = which("runc");
if (!runc) {
  console.error("bench: runc is needed as the reference (apt-get install runc)");
  process.exit(2);
}

const rootfs = busyboxRootfs();
const bundle = join(WORK, "bench-runc-bundle");
rmSync(bundle, { recursive: true, force: true });
mkdirSync(bundle, { recursive: true });
Bun.spawnSync([runc, "spec"], { cwd: bundle });
const config = await Bun.file(join(bundle, "config.json")).json();
config.process.terminal = false;
config.process.args = ["/bin/true"];
config.root = { path: rootfs, readonly: true };
writeFileSync(join(bundle, "config.json"), JSON.stringify(config, null, 2));
const runcRoot = join(WORK, "bench-runc-state");


const mycrTimes: number[] = [];
const runcTimes: number[] = [];
// one warm-up each, not counted
timeOnce([MYCR, "run", "--rootfs", rootfs, "--network", "none", "--", "/bin/true"], mycrEnv());
timeOnce([runc, "--root", runcRoot, "run", "--bundle", bundle, "bench-warmup"]);
for (let i = 0; i < runs; i++) {
  mycrTimes.push(timeOnce([MYCR, "run", "--rootfs", rootfs, "--network", "none", "--", "/bin/true"], mycrEnv()));
  runcTimes.push(timeOnce([runc, "--root", runcRoot, "run", "--bundle", bundle, `bench-${process.pid}-${i}`]));
}
rmSync(bundle, { recursive: true, force: true });
rmSync(runcRoot, { recursive: true, force: true });

const m = median(mycrTimes);
const r = median(runcTimes);
console.log(`runs: ${runs} each, interleaved`);
console.log(`mycr run: median ${m.toFixed(1)} ms (min ${Math.min(...mycrTimes).toFixed(1)})`);
console.log(`runc run: median ${r.toFixed(1)} ms (min ${Math.min(...runcTimes).toFixed(1)})`);
console.log(`ratio mycr/runc: ${(m / r).toFixed(2)} (target <= 0.60)`);
