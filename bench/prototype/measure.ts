// Measures the native-child prototype against `runc run` and `mycr run` of the same
// busybox root, interleaved; medians of wall and CPU time.
//   bun build --compile --minify --bytecode bench/prototype/native-child.ts --outfile .bench-work/proto
//   bun bench/prototype/measure.ts [--runs 15]
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MYCR, REPO, mycrEnv } from "../../test/helpers/env";
import { busyboxRootfs } from "../../test/helpers/rootfs";
import { buildHello, runcBundle } from "../references";
import { median, timeSteps, which, type Sample, type Step } from "../timing";

const { values } = parseArgs({ options: { runs: { type: "string", default: "15" }, bpf: { type: "string" } } });
const runc = which("runc")!;
const rootfs = busyboxRootfs();
const work = join(REPO, ".bench-work", `proto-${process.pid}`);
mkdirSync(work, { recursive: true });
const bundle = await runcBundle(runc, join(work, "bundle"), rootfs, ["/bin/true"]);
const hello = buildHello(work);

let n = 0;
const kinds: Record<string, () => Step> = {
  "prototype (TinyCC, CLONE_VM)": () => ({ argv: [join(REPO, ".bench-work/proto"), rootfs, ...(values.bpf ? [values.bpf] : [])] }),
  "prototype (TinyCC, fork-like clone)": () => ({ argv: [join(REPO, ".bench-work/proto"), rootfs, ...(values.bpf ? [values.bpf] : [])], env: { PROTO_FORK: "1" } }),
  "prototype (gcc .so child)": () => ({ argv: [join(REPO, ".bench-work/proto"), rootfs, ...(values.bpf ? [values.bpf] : [])], env: { PROTO_SO: join(REPO, ".bench-work/native-child.so") } }),
  "mycr run": () => ({ argv: [MYCR, "run", "--rootfs", rootfs, "--network", "none", "--", "/bin/true"], env: mycrEnv() }),
  "runc run": () => ({ argv: [runc, "--root", join(work, "runc"), "run", "--bundle", bundle, `p${n++}`] }),
  "compiled Bun hello": () => ({ argv: [hello] }),
};
const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
for (const make of Object.values(kinds)) timeSteps([make()]); // warm-up
for (let i = 0; i < Number(values.runs); i++) for (const [k, make] of Object.entries(kinds)) samples[k]!.push(timeSteps([make()]));
rmSync(work, { recursive: true, force: true });
const r = median(samples["runc run"]!.map((s) => s.wall));
const rc = median(samples["runc run"]!.map((s) => s.cpu));
console.log(`load average ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}; ${values.runs} runs each, interleaved`);
console.log("| | wall | CPU | wall / runc | CPU / runc |\n| --- | --- | --- | --- | --- |");
for (const [k, xs] of Object.entries(samples)) {
  const w = median(xs.map((s) => s.wall));
  const c = median(xs.map((s) => s.cpu));
  console.log(`| ${k} | ${w.toFixed(1)} ms | ${c.toFixed(1)} ms | ${(w / r).toFixed(2)} | ${(c / rc).toFixed(2)} |`);
}
