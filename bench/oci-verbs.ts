// Each OCI verb alone, mycr against runc (and against another mycr binary, to measure a
// change): create, state, start, kill, delete --force of a `sleep` bundle, interleaved
// (one lifecycle of each binary per round), medians of wall and CPU (user + system,
// children included) per verb.
//   bun bench/oci-verbs.ts [--runs 15] [--old PATH-TO-ANOTHER-MYCR]
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MYCR, REPO, mycrEnv } from "../test/helpers/env";
import { busyboxRootfs } from "../test/helpers/rootfs";
import { runcBundle } from "./references";
import { freshCopy } from "./fresh-copy";
import { median, timeSteps, which, type Step } from "./timing";

const { values } = parseArgs({ options: { runs: { type: "string", default: "15" }, old: { type: "string" } } });
const runs = Number(values.runs);
const runc = which("runc");
if (!runc) {
  console.error("bench: runc is needed as the reference (apt-get install runc)");
  process.exit(2);
}

const WORK = join(REPO, ".bench-work", `verbs-${process.pid}`);
mkdirSync(WORK, { recursive: true });
const env = mycrEnv();
const bundle = await runcBundle(runc, join(WORK, "sleep"), busyboxRootfs(), ["/bin/sleep", "600"]);
const runcRoot = join(WORK, "runc-state");

const VERBS = ["create", "state", "start", "kill", "delete --force"] as const;
type Verb = (typeof VERBS)[number];
/** The runtimes measured, each run from a copy written now (./fresh-copy.ts): a function from verb words to a step. */
const [runcCopy, mycrCopy] = [freshCopy(runc, WORK, "runc"), freshCopy(MYCR, WORK, "mycr")];
const runtimes: Record<string, (...args: string[]) => Step> = {
  runc: (...args) => ({ argv: [runcCopy, "--root", runcRoot, ...args] }),
  mycr: (...args) => ({ argv: [mycrCopy, ...args], env }),
};
if (values.old) {
  const oldCopy = freshCopy(values.old, WORK, "mycr-old");
  runtimes["mycr (old)"] = (...args) => ({ argv: [oldCopy, ...args], env });
}

const samples: Record<string, Record<Verb, { wall: number[]; cpu: number[] }>> = {};
for (const name of Object.keys(runtimes)) {
  samples[name] = Object.fromEntries(VERBS.map((v) => [v, { wall: [], cpu: [] }])) as unknown as (typeof samples)[string];
}

let serial = 0;
for (let round = 0; round < runs; round++) {
  for (const [name, step] of Object.entries(runtimes)) {
    const id = `verbs-${process.pid}-${serial++}`;
    const words: Record<Verb, string[]> = {
      create: ["create", "--bundle", bundle, id],
      state: ["state", id],
      start: ["start", id],
      kill: ["kill", id, "KILL"],
      "delete --force": ["delete", "--force", id],
    };
    for (const verb of VERBS) {
      const s = timeSteps([{ ...step(...words[verb]), leavesRunning: verb === "create" || verb === "start" }]);
      samples[name]![verb].wall.push(s.wall);
      samples[name]![verb].cpu.push(s.cpu);
    }
  }
}

const fmt = (n: number) => n.toFixed(1);
console.log(`| verb | ${Object.keys(runtimes).map((n) => `${n} wall | ${n} CPU`).join(" | ")} |`);
console.log(`| --- |${" --- | --- |".repeat(Object.keys(runtimes).length)}`);
for (const verb of VERBS) {
  const cells = Object.keys(runtimes).map((n) => `${fmt(median(samples[n]![verb].wall))} | ${fmt(median(samples[n]![verb].cpu))}`);
  console.log(`| ${verb} | ${cells.join(" | ")} |`);
}
rmSync(WORK, { recursive: true, force: true });
