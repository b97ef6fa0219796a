// linux.seccomp -> a libseccomp filter, compiled during setup (so a bad profile fails
// the start cleanly) and loaded as the last step before execve (see security.ts).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SCMP_ACT, SCMP_CMP, SCMP_FLTATR, SeccompFilter, loadLibseccomp, loadSeccompProgram, type ArgCondition } from "../sys";
import type { Seccomp } from "../spec/types";

const EPERM = 1;

function action(name: string, errnoRet: number | undefined, where: string): number {
  switch (name) {
    case "SCMP_ACT_ALLOW":
      return SCMP_ACT.ALLOW;
    case "SCMP_ACT_ERRNO":
      return SCMP_ACT.errno(errnoRet ?? EPERM);
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SCMP_ACT.KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return SCMP_ACT.KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return SCMP_ACT.TRAP;
    case "SCMP_ACT_TRACE":
      return SCMP_ACT.trace(errnoRet ?? EPERM);
    case "SCMP_ACT_LOG":
      return SCMP_ACT.LOG;
    case "SCMP_ACT_NOTIFY":
      throw new Error(`${where}: SCMP_ACT_NOTIFY needs a seccomp agent (listenerPath), which mycr does not support`);
    default:
      throw new Error(`${where}: unknown action "${name}"`);
  }
}

/** "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
function archName(arch: string): string {
  return arch.replace(/^SCMP_ARCH_/, "").toLowerCase();
}

const FLAG_ATTRIBUTES: Record<string, number | null> = {
  SECCOMP_FILTER_FLAG_LOG: SCMP_FLTATR.CTL_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SCMP_FLTATR.CTL_SSB,
  // Syncing the filter to every thread would change nothing: execve ends all threads but ours.
  SECCOMP_FILTER_FLAG_TSYNC: null,
};

function conditions(args: NonNullable<NonNullable<Seccomp["syscalls"]>[number]["args"]>, where: string): ArgCondition[] {
  return args.map((a, i) => {
    const op = SCMP_CMP[a.op];
    if (op === undefined) throw new Error(`${where}.args[${i}]: unknown operator "${a.op}"`);
    if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new Error(`${where}.args[${i}]: index must be 0 to 5`);
    return { index: a.index, op, value: BigInt(a.value), valueTwo: BigInt(a.valueTwo ?? 0) };
  });
}

/** Builds the filter; the caller loads it (or releases it on failure). */
export function compileSeccomp(config: Seccomp): SeccompFilter {
  if (config.listenerPath) throw new Error("linux.seccomp.listenerPath: seccomp agents are not supported by mycr");
  const defaultAction = action(config.defaultAction, config.defaultErrnoRet, "linux.seccomp.defaultAction");
  const filter = new SeccompFilter(defaultAction);
  try {
    // We set no_new_privs ourselves, only when the spec asks (libseccomp would always set it).
    filter.setAttribute(SCMP_FLTATR.CTL_NNP, 0, "no_new_privs off");
    for (const arch of config.architectures ?? []) {
      const name = archName(arch);
      const token = SeccompFilter.archToken(name);
      if (token === null) throw new Error(`linux.seccomp.architectures: unknown architecture "${arch}"`);
      filter.addArch(name, token);
    }
    for (const flag of config.flags ?? []) {
      const attr = FLAG_ATTRIBUTES[flag];
      if (attr === undefined) throw new Error(`linux.seccomp.flags: "${flag}" is not supported by mycr`);
      if (attr !== null) filter.setAttribute(attr, 1, flag);
    }
    (config.syscalls ?? []).forEach((rule, i) => {
      const where = `linux.seccomp.syscalls[${i}]`;
      const act = action(rule.action, rule.errnoRet, `${where}.action`);
      // libseccomp refuses rules that repeat the default action; they change nothing anyway.
      if (act === defaultAction) return;
      const conds = conditions(rule.args ?? [], where);
      // libseccomp ANDs the conditions of one rule but refuses two on the same argument;
      // the runtime-spec (like runc) means those as alternatives: one rule each.
      const indexes = conds.map((c) => c.index);
      const repeated = new Set(indexes).size !== indexes.length;
      for (const name of rule.names) {
        const nr = SeccompFilter.syscallNumber(name);
        if (nr === null) continue; // a call this kernel/architecture does not have: nothing to filter
        if (repeated) for (const c of conds) filter.addRule(act, nr, name, [c]);
        else filter.addRule(act, nr, name, conds);
      }
    });
    return filter;
  } catch (e) {
    filter.release();
    throw e;
  }
}

/** A filter ready to install: compiled by libseccomp now, or read back from the cache. */
export interface LoadableSeccomp {
  load(): void;
  release(): void;
}

/** seccomp(2) flags for the spec's flags, as libseccomp derives them from its attributes. */
function kernelFlags(config: Seccomp): number {
  const FLAG_BITS: Record<string, number> = { SECCOMP_FILTER_FLAG_LOG: 2, SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4 };
  return (config.flags ?? []).reduce((bits, f) => bits | (FLAG_BITS[f] ?? 0), 0);
}

/**
 * The filter for `config`. Compiling a profile as large as docker's takes libseccomp
 * milliseconds at every start, so the program it produces is kept in `cacheDir` under
 * the hash of the profile; the next container with the same profile installs it
 * directly (root-only files, written with rename, on the host's side of pivot_root).
 */
function cacheFile(config: Seccomp, cacheDir: string): string {
  const key = new Bun.CryptoHasher("sha256").update(`${process.arch}\n${JSON.stringify(config)}`).digest("hex");
  return join(cacheDir, `${key}.bpf`);
}

/**
 * The program itself, for the native init's child to install: from the cache, compiled
 * into it first if it is not there yet. The libseccomp filter is only released.
 */
export function cachedSeccompProgram(config: Seccomp, cacheDir: string): { program: Uint8Array; flags: number } {
  const file = cacheFile(config, cacheDir);
  if (!existsSync(file)) prepareSeccomp(config, cacheDir).release(); // compiled into the cache
  const program = new Uint8Array(readFileSync(file));
  if (program.length === 0 || program.length % 8 !== 0) throw new Error(`seccomp: the cached program ${file} is damaged (remove it)`);
  return { program, flags: kernelFlags(config) };
}

export function prepareSeccomp(config: Seccomp, cacheDir?: string): LoadableSeccomp {
  const cached = cacheDir ? cacheFile(config, cacheDir) : null;
  if (cached && existsSync(cached)) {
    const program = new Uint8Array(readFileSync(cached));
    if (program.length > 0 && program.length % 8 === 0) {
      return { load: () => loadSeccompProgram(program, kernelFlags(config)), release: () => {} };
    }
  }
  loadLibseccomp();
  const filter = compileSeccomp(config);
  if (cached && cacheDir) {
    const tmp = `${cached}.${process.pid}`;
    try {
      mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      const fd = openSync(tmp, "w", 0o600);
      try {
        filter.exportBpf(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, cached);
    } catch {
      // A cache we cannot write only costs time. Inside a user namespace the host's root
      // owns the cache dir as nobody: even looking for the temporary file is refused.
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing was written
      }
    }
  }
  return filter;
}
