// --ulimit NAME=SOFT[:HARD] -> process.rlimits (docker's names and syntax).
import { ContainerError } from "../runtime/errors";
import type { Rlimit } from "../spec/types";

const NAMES = ["as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"];

/** -1 and "unlimited" mean no limit; the spec's uint64 maximum does not survive JSON numbers, so -1 stands for it. */
function value(text: string, flag: string): number {
  if (text === "unlimited" || text === "-1") return -1;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new ContainerError(`${flag}: "${text}" is not a number`);
  return Number(text);
}

export function parseUlimit(text: string): Rlimit {
  const flag = `--ulimit ${text}`;
  const m = /^([a-z]+)=([^:]+)(?::([^:]+))?$/.exec(text);
  if (!m) throw new ContainerError(`${flag}: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
  const [, name, softText, hardText] = m as unknown as [string, string, string, string | undefined];
  if (!NAMES.includes(name)) throw new ContainerError(`${flag}: unknown limit "${name}" (one of ${NAMES.join(", ")})`);
  const soft = value(softText, flag);
  const hard = hardText === undefined ? soft : value(hardText, flag);
  const unlimited = (n: number) => (n < 0 ? Infinity : n);
  if (unlimited(soft) > unlimited(hard)) throw new ContainerError(`${flag}: the soft limit is above the hard limit`);
  return { type: `RLIMIT_${name.toUpperCase()}`, soft, hard };
}

/** One entry per limit: a later --ulimit for the same name wins. */
export function parseUlimits(texts: string[]): Rlimit[] {
  const byType = new Map<string, Rlimit>();
  for (const t of texts) {
    const r = parseUlimit(t);
    byType.set(r.type, r);
  }
  return [...byType.values()];
}
