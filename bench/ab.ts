// Two mycr binaries on one command, interleaved in A B B A order, medians of wall and CPU
// (user + system, reaped children included): to measure one change on the same machine
// at the same moment.
//   bun bench/ab.ts --old PATH [--runs 41] -- WORDS...   (WORDS after mycr; {rootfs} is the test busybox root)
import { parseArgs } from "node:util";
import { MYCR, mycrEnv } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";
import { median, timeSteps } from "./timing";

const { values, positionals } = parseArgs({ options: { old: { type: "string" }, runs: { type: "string", default: "41" } }, allowPositionals: true });
if (!values.old || positionals.length === 0) {
  console.error("usage: bun bench/ab.ts --old PATH-TO-ANOTHER-MYCR [--runs N] -- WORDS...");
  process.exit(2);
}
const words = positionals.map((w) => w.replaceAll("{rootfs}", busyboxRootfs()));
const env = mycrEnv();
const binaries = { old: values.old, new: MYCR };
const samples = { old: { wall: [] as number[], cpu: [] as number[] }, new: { wall: [] as number[], cpu: [] as number[] } };
for (let i = 0; i < Number(values.runs); i++) {
  for (const which of i % 2 === 0 ? (["old", "new"] as const) : (["new", "old"] as const)) {
    const s = timeSteps([{ argv: [binaries[which], ...words], env }]);
    samples[which].wall.push(s.wall);
    samples[which].cpu.push(s.cpu);
  }
}
const row = (k: "old" | "new") => `${median(samples[k].wall).toFixed(1)} ms wall, ${median(samples[k].cpu).toFixed(1)} ms CPU`;
console.log(`old: ${row("old")}\nnew: ${row("new")}\nnew/old: wall ${(median(samples.new.wall) / median(samples.old.wall)).toFixed(3)}, CPU ${(median(samples.new.cpu) / median(samples.old.cpu)).toFixed(3)}`);
