// `mycr run` of /bin/true with each init (docs/performance.md, issue 17), against
// `runc run` of the same root, interleaved; medians of wall and CPU time:
//   bun bench/native-init.ts [--runs 11] [--batch-rounds 2]
// Rows: Bun's init; the native init with the C built into the binary; the native init
// with the C compiled by TinyCC at run time (MYCR_NATIVE=tinycc); runc. Then 20 at once.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MYCR, REPO, mycrEnv } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";
import { runcBundle } from "./references";
import { median, timeBatch, timeSteps, which, type Sample, type Step } from "./timing";

const { values } = parseArgs({ options: { runs: { type: "string", default: "11" }, "batch-rounds": { type: "string", default: "2" } } });
const runc = which("runc");
if (!runc) throw new Error("bench/native-init.ts needs runc on PATH");
const rootfs = busyboxRootfs();
const work = join(REPO, ".bench-work", `native-init-${process.pid}`);
mkdirSync(work, { recursive: true });
const bundle = await runcBundle(runc, join(work, "bundle"), rootfs, ["/bin/true"]);

let n = 0;
const run = (env: Record<string, string>): Step => ({ argv: [MYCR, "run", "--rootfs", rootfs, "--network", "none", "--", "/bin/true"], env: mycrEnv(env) });
const kinds: Record<string, () => Step> = {
  "mycr run, Bun's init (MYCR_INIT=bun)": () => run({ MYCR_INIT: "bun" }),
  "mycr run, native init, C built in": () => run({ MYCR_INIT: "native" }),
  "mycr run, native init, C by TinyCC": () => run({ MYCR_INIT: "native", MYCR_NATIVE: "tinycc" }),
  "runc run": () => ({ argv: [runc, "--root", join(work, "runc"), "run", "--bundle", bundle, `b${process.pid}-${n++}`] }),
};
const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
for (const make of Object.values(kinds)) timeSteps([make()]); // warm-up (and the seccomp cache)
for (let i = 0; i < Number(values.runs); i++) for (const [k, make] of Object.entries(kinds)) samples[k]!.push(timeSteps([make()]));

const batch: Record<string, number[]> = { "Bun's init": [], "native init": [], runc: [] };
for (let i = 0; i < Number(values["batch-rounds"]); i++) {
  batch["Bun's init"]!.push((await timeBatch(Array.from({ length: 20 }, () => run({ MYCR_INIT: "bun" })))).wall);
  batch["native init"]!.push((await timeBatch(Array.from({ length: 20 }, () => run({ MYCR_INIT: "native" })))).wall);
  batch.runc!.push((await timeBatch(Array.from({ length: 20 }, () => kinds["runc run"]!()))).wall);
}
rmSync(work, { recursive: true, force: true });

const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
const r = median(samples["runc run"]!.map((s) => s.wall));
const rc = median(samples["runc run"]!.map((s) => s.cpu));
console.log(`load average ${load}; ${values.runs} runs each, interleaved`);
console.log("| | wall | CPU | wall / runc | CPU / runc |\n| --- | --- | --- | --- | --- |");
for (const [k, xs] of Object.entries(samples)) {
  const w = median(xs.map((s) => s.wall));
  const c = median(xs.map((s) => s.cpu));
  console.log(`| ${k} | ${w.toFixed(1)} ms | ${c.toFixed(1)} ms | ${(w / r).toFixed(2)} | ${(c / rc).toFixed(2)} |`);
}
const b = median(batch.runc!);
for (const [k, xs] of Object.entries(batch)) console.log(`| 20 at once, ${k} | ${median(xs).toFixed(0)} ms | | ${(median(xs) / b).toFixed(2)} | |`);
