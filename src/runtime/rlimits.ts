// process.rlimits, applied by init before it gives up root.
import { RLIMITS, RLIM_INFINITY, SysError, capget, getrlimit, setrlimit, type SpawnStep } from "../sys";
import type { Rlimit } from "../spec/types";

/** JSON numbers cannot hold 2^64-1 exactly: anything that large (or negative) means unlimited. */
function limitValue(n: number): bigint {
  return n < 0 || n >= 2 ** 63 ? RLIM_INFINITY : BigInt(Math.trunc(n));
}

function show(v: bigint): string {
  return v === RLIM_INFINITY ? "unlimited" : String(v);
}

interface CheckedRlimit {
  resource: number;
  type: string;
  name: string;
  soft: bigint;
  hard: bigint;
}

function checked(r: Rlimit): CheckedRlimit {
  const resource = RLIMITS[r.type];
  if (resource === undefined) throw new Error(`process.rlimits: unknown type "${r.type}"`);
  const name = r.type.replace(/^RLIMIT_/, "").toLowerCase();
  const soft = limitValue(r.soft);
  const hard = limitValue(r.hard);
  if (soft > hard) throw new Error(`ulimit ${name}: the soft limit ${show(soft)} is above the hard limit ${show(hard)}`);
  return { resource, type: r.type, name, soft, hard };
}

function cannotRaise(r: CheckedRlimit, current: bigint): Error {
  return new Error(`ulimit ${r.name}: cannot raise the hard limit to ${show(r.hard)} (it is ${show(current)} here; raising it needs CAP_SYS_RESOURCE)`);
}

export function applyRlimits(rlimits: Rlimit[] = []): void {
  for (const r of rlimits.map(checked)) {
    try {
      setrlimit(r.resource, { soft: r.soft, hard: r.hard }, r.type);
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== 1 /* EPERM */) throw e;
      throw cannotRaise(r, getrlimit(r.resource, r.type).hard);
    }
  }
}

const CAP_SYS_RESOURCE = 24n;

/**
 * The native child's steps for process.rlimits, checked here as applyRlimits checks them
 * (the child inherits our limits, so a hard limit above ours needs CAP_SYS_RESOURCE).
 */
export function rlimitSteps(rlimits: Rlimit[] = []): SpawnStep[] {
  const mayRaise = (capget().effective >> CAP_SYS_RESOURCE) & 1n;
  return rlimits.map(checked).map((r) => {
    const current = getrlimit(r.resource, r.type).hard;
    if (r.hard > current && !mayRaise) throw cannotRaise(r, current);
    return { op: "rlimit", what: `ulimit ${r.name}`, resource: r.resource, soft: r.soft, hard: r.hard };
  });
}
