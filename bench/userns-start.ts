// What a user namespace costs at start-up: `mycr run --bundle` of /bin/true with the
// runc-spec bundle as it is, with a user namespace (uid/gid maps) and with user + time
// namespaces, against `runc run` of the same bundles (runc 1.1 has no time namespaces).
// Interleaved, medians and ratios printed. MYCR_TRACE=1 on one more run shows where
// the time goes inside mycr (docs/design-userns.md).
//   bun bench/userns-start.ts [--runs 20]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MYCR, WORK, mycrEnv } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";
import { median, timeOnce } from "./timing";

const { values } = parseArgs({ options: { runs: { type: "string", default: "20" } } });
const runs = Number(values.runs);

const runc = Bun.spawnSync(["sh", "-c", "command -v runc"]).stdout.toString().trim() || null;
const MAP = [{ containerID: 0, hostID: 400000, size: 65536 }];

type Variant = { name: string; adjust: (c: Record<string, any>) => void; runc: boolean };
const variants: Variant[] = [
  { name: "plain", adjust: () => {}, runc: true },
  {
    name: "user namespace",
    adjust: (c) => {
      c.linux.namespaces.push({ type: "user" });
      c.linux.uidMappings = MAP;
      c.linux.gidMappings = MAP;
    },
    runc: true,
  },
  {
    name: "user + time namespaces",
    adjust: (c) => {
      c.linux.namespaces.push({ type: "user" }, { type: "time" });
      c.linux.uidMappings = MAP;
      c.linux.gidMappings = MAP;
      c.linux.timeOffsets = { boottime: { secs: 3600 } };
    },
    runc: false,
  },
];

function bundleFor(v: Variant): string {
  const dir = join(WORK, `bench-userns-${v.name.replace(/\W+/g, "-")}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  Bun.spawnSync([MYCR, "spec", "--bundle", dir], { env: mycrEnv() });
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  config.process.terminal = false;
  config.process.args = ["/bin/true"];
  config.root = { path: busyboxRootfs(), readonly: true };
  v.adjust(config);
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
  return dir;
}


const runcRoot = join(WORK, "bench-userns-runc-state");
let n = 0;
const results: Array<{ name: string; mycr: number; runc: number | null }> = [];
for (const v of variants) {
  const bundle = bundleFor(v);
  const mycrRun = () => timeOnce([MYCR, "run", "--bundle", bundle, `bench-uns-${process.pid}-${++n}`], mycrEnv());
  const runcRun = () => timeOnce([runc!, "--root", runcRoot, "run", "--bundle", bundle, `bench-uns-${process.pid}-${++n}`]);
  const useRunc = v.runc && runc !== null;
  mycrRun();
  if (useRunc) runcRun();
  const m: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < runs; i++) {
    m.push(mycrRun());
    if (useRunc) r.push(runcRun());
  }
  results.push({ name: v.name, mycr: median(m), runc: useRunc ? median(r) : null });
  if (v.name !== "plain") {
    const traced = Bun.spawnSync([MYCR, "run", "--bundle", bundle, `bench-uns-${process.pid}-${++n}`], { env: mycrEnv({ MYCR_TRACE: "1" }), stdout: "ignore", stderr: "pipe" });
    console.log(`-- trace, ${v.name}:\n${traced.stderr.toString().trim()}`);
  }
  rmSync(bundle, { recursive: true, force: true });
}
rmSync(runcRoot, { recursive: true, force: true });
console.log(`runs: ${runs} each, interleaved with runc where it has the feature`);
const plain = results[0]!;
for (const x of results) {
  const vsRunc = x.runc === null ? "runc: n/a" : `runc ${x.runc.toFixed(1)} ms, ratio ${(x.mycr / x.runc).toFixed(2)}`;
  console.log(`${x.name}: mycr ${x.mycr.toFixed(1)} ms (+${(x.mycr - plain.mycr).toFixed(1)} over plain); ${vsRunc}`);
}
