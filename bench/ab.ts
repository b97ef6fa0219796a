// Two variants of mycr on one command, interleaved in A B B A order, medians of wall and
// CPU (user + system, reaped children included): to measure one change on the same
// machine at the same moment. The variants are two builds (--old), or this build with
// and without an environment variable (--env, e.g. a BUN_JSC_ option of Bun's engine).
//   bun bench/ab.ts --old PATH [--runs 41] -- WORDS...   (WORDS after mycr; {rootfs} is the test busybox root)
//   bun bench/ab.ts --env NAME=VALUE [--runs 41] -- WORDS...
import { parseArgs } from "node:util";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MYCR, REPO, mycrEnv } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";
import { freshCopy } from "./fresh-copy";
import { median, timeSteps } from "./timing";

const { values, positionals } = parseArgs({ options: { old: { type: "string" }, env: { type: "string" }, runs: { type: "string", default: "41" } }, allowPositionals: true });
const setting = values.env?.match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
if (!!values.old === !!values.env || (values.env && !setting) || positionals.length === 0) {
  console.error("usage: bun bench/ab.ts (--old PATH-TO-ANOTHER-MYCR | --env NAME=VALUE) [--runs N] -- WORDS...");
  process.exit(2);
}
const words = positionals.map((w) => w.replaceAll("{rootfs}", busyboxRootfs()));
const env = mycrEnv();
// both builds run from copies written now (./fresh-copy.ts)
const WORK = join(REPO, ".bench-work", `ab-${process.pid}`);
mkdirSync(WORK, { recursive: true });
const built = freshCopy(MYCR, WORK, "mycr");
const variants = values.old
  ? { old: { argv: [freshCopy(values.old, WORK, "mycr-old"), ...words], env }, new: { argv: [built, ...words], env } }
  : { old: { argv: [built, ...words], env }, new: { argv: [built, ...words], env: { ...env, [setting![1]!]: setting![2]! } } };
const samples = { old: { wall: [] as number[], cpu: [] as number[] }, new: { wall: [] as number[], cpu: [] as number[] } };
for (let i = 0; i < Number(values.runs); i++) {
  for (const which of i % 2 === 0 ? (["old", "new"] as const) : (["new", "old"] as const)) {
    const s = timeSteps([variants[which]]);
    samples[which].wall.push(s.wall);
    samples[which].cpu.push(s.cpu);
  }
}
const names = values.old ? { old: "old", new: "new" } : { old: "without", new: values.env! };
const row = (k: "old" | "new") => `${median(samples[k].wall).toFixed(1)} ms wall, ${median(samples[k].cpu).toFixed(1)} ms CPU`;
console.log(`${names.old}: ${row("old")}\n${names.new}: ${row("new")}\n${names.new}/${names.old}: wall ${(median(samples.new.wall) / median(samples.old.wall)).toFixed(3)}, CPU ${(median(samples.new.cpu) / median(samples.old.cpu)).toFixed(3)}`);
rmSync(WORK, { recursive: true, force: true });
