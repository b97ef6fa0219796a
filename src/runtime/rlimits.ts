// process.rlimits, applied by Bun's init before it gives up root, or by the runtime to
// the native init's child (`pid`) while it waits for "go".
import { RLIMITS, RLIM_INFINITY, SysError, getrlimit, setrlimit } from "../sys";
import type { Rlimit } from "../spec/types";

/** JSON numbers cannot hold 2^64-1 exactly: anything that large (or negative) means unlimited. */
function limitValue(n: number): bigint {
  return n < 0 || n >= 2 ** 63 ? RLIM_INFINITY : BigInt(Math.trunc(n));
}

function show(v: bigint): string {
  return v === RLIM_INFINITY ? "unlimited" : String(v);
}

export function applyRlimits(rlimits: Rlimit[] = [], pid = 0): void {
  for (const r of rlimits) {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new Error(`process.rlimits: unknown type "${r.type}"`);
    const name = r.type.replace(/^RLIMIT_/, "").toLowerCase();
    const soft = limitValue(r.soft);
    const hard = limitValue(r.hard);
    if (soft > hard) throw new Error(`ulimit ${name}: the soft limit ${show(soft)} is above the hard limit ${show(hard)}`);
    try {
      setrlimit(resource, { soft, hard }, r.type, pid);
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== 1 /* EPERM */) throw e;
      const current = getrlimit(resource, r.type).hard;
      throw new Error(
        `ulimit ${name}: cannot raise the hard limit to ${show(hard)} (it is ${show(current)} here; raising it needs CAP_SYS_RESOURCE)`,
      );
    }
  }
}
