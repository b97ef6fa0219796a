// A Dockerfile's stages: the ARGs before the first FROM (global: usable in FROM lines),
// then one stage per FROM (`FROM base [AS name]`), and which stages a target needs
// (its base stage, the stages it copies from, and so on): the others are not built.
import { BuildError, at, type Dockerfile, type Instruction } from "./dockerfile";

export interface Stage {
  index: number;
  /** Lower-case `AS` name, if any. */
  name?: string;
  from: Instruction;
  /** FROM's image text (before expansion). */
  base: string;
  steps: Instruction[];
}

export interface Stages {
  globalArgs: Instruction[];
  stages: Stage[];
}

export function splitStages(df: Dockerfile): Stages {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of df.instructions) {
    if (ins.name === "FROM") {
      const m = /^(\S+)(?:\s+as\s+(\S+))?\s*$/i.exec(ins.args);
      if (!m) throw at(df.file, ins, "expected FROM IMAGE [AS NAME]");
      const name = m[2]?.toLowerCase();
      if (name !== undefined) {
        if (!/^[a-z][a-z0-9-_.]*$/.test(name)) throw at(df.file, ins, `"${m[2]}" is not a valid stage name`);
        if (stages.some((s) => s.name === name)) throw at(df.file, ins, `a stage named "${name}" exists already`);
      }
      stages.push({ index: stages.length, ...(name !== undefined ? { name } : {}), from: ins, base: m[1]!, steps: [] });
    } else if (stages.length === 0) {
      if (ins.name !== "ARG") throw at(df.file, ins, "only ARG may come before the first FROM");
      globalArgs.push(ins);
    } else stages.at(-1)!.steps.push(ins);
  }
  return { globalArgs, stages };
}

/** The stage a `--from=` or FROM text names (by name or index), if it names one before `before`. */
export function stageNamed(stages: Stage[], text: string, before: number): Stage | undefined {
  const lower = text.toLowerCase();
  const byName = stages.find((s) => s.name === lower && s.index < before);
  if (byName) return byName;
  if (/^\d+$/.test(text) && Number(text) < before) return stages[Number(text)];
  return undefined;
}

/** The stages `target` needs, in order (the target last). */
export function neededStages(all: Stages, target: string | undefined, file: string): Stage[] {
  const { stages } = all;
  const last = target === undefined ? stages.at(-1)! : stages.find((s) => s.name === target.toLowerCase());
  if (!last) throw new BuildError(`--target ${target}: ${file} has no stage of that name (${stages.flatMap((s) => s.name ?? []).join(", ") || "no named stages"})`);
  const need = new Set<number>();
  const visit = (s: Stage) => {
    if (need.has(s.index)) return;
    need.add(s.index);
    const base = stageNamed(stages, s.base, s.index);
    if (base) visit(base);
    for (const ins of s.steps) {
      const from = ins.flags.get("from");
      const dep = from !== undefined && (ins.name === "COPY" || ins.name === "ADD") ? stageNamed(stages, from, s.index) : undefined;
      if (dep) visit(dep);
    }
  };
  visit(last);
  return stages.filter((s) => need.has(s.index) && s.index <= last.index);
}
