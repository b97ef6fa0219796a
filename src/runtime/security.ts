// The last thing init does before execve: take away what the container must not have.
// Everything here acts on the calling thread — the JS thread, which is the one that
// calls execve — and execve hands exactly that thread's state to the program:
// capabilities, the bounding set, no_new_privs and the seccomp filter. Other Bun
// threads keep their privileges until execve ends them, which does not matter.
import {
  CAPABILITIES,
  SysError,
  capabilityName,
  capget,
  capset,
  clearAmbient,
  dropBounding,
  lastCapability,
  raiseAmbient,
  setNoNewPrivileges,
} from "../sys";
import type { Capabilities, Process } from "../spec/types";
import type { LoadableSeccomp } from "./seccomp";

type CapabilitySet = keyof Capabilities;
const SETS: CapabilitySet[] = ["bounding", "effective", "permitted", "inheritable", "ambient"];

/** Capability sets as bit masks, checked against what the kernel knows. */
interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: number[];
}

/** Security settings checked and compiled during setup, ready to apply right before execve. */
export interface PreparedSecurity {
  capabilities: CapabilityMasks | null;
  noNewPrivileges: boolean;
  seccomp: LoadableSeccomp | null;
}

function masks(caps: Capabilities): CapabilityMasks {
  const last = lastCapability();
  const out: CapabilityMasks = { bounding: 0n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: [] };
  for (const set of SETS) {
    for (const name of caps[set] ?? []) {
      const cap = CAPABILITIES[name];
      if (cap === undefined) throw new Error(`process.capabilities.${set}: unknown capability "${name}"`);
      if (cap > last) continue; // newer than this kernel: nothing to grant or withhold (runc does the same)
      if (set === "ambient") out.ambient.push(cap);
      else out[set] |= 1n << BigInt(cap);
    }
  }
  // The kernel raises an ambient capability only when it is permitted and inheritable
  // too; the rest are left out (see unraisableAmbient), as runc does.
  const raisable = out.permitted & out.inheritable;
  out.ambient = out.ambient.filter((cap) => raisable & (1n << BigInt(cap)));
  return out;
}

/**
 * Ambient capabilities of a config that cannot be raised, because the config leaves
 * them out of the inheritable or permitted set. `runc spec`'s own default lists its
 * ambient capabilities without inheritable ones, and clients copy it: runc runs it,
 * without those ambient capabilities, and so do we, with a warning naming them.
 */
export function unraisableAmbient(caps: Capabilities | undefined): string[] {
  const both = new Set((caps?.permitted ?? []).filter((name) => caps?.inheritable?.includes(name)));
  return (caps?.ambient ?? []).filter((name) => !both.has(name));
}

export function warnUnraisableAmbient(caps: Capabilities | undefined, warn: (message: string) => void): void {
  const names = unraisableAmbient(caps);
  if (names.length === 0) return;
  warn(`process.capabilities.ambient: ${names.join(", ")} not raised: an ambient capability must also be in the inheritable and permitted sets`);
}

/** Names of the capabilities in `wanted` that we do not have ourselves, so cannot give. */
function missing(wanted: bigint, have: bigint): string[] {
  const names: string[] = [];
  for (let cap = 0; cap <= lastCapability(); cap++) {
    const bit = 1n << BigInt(cap);
    if (wanted & bit && !(have & bit)) names.push(capabilityName(cap));
  }
  return names;
}

export function prepareSecurity(proc: Process, seccomp: LoadableSeccomp | null): PreparedSecurity {
  let capabilities: CapabilityMasks | null = null;
  if (proc.capabilities) {
    capabilities = masks(proc.capabilities);
    const held = capget().permitted;
    const lacking = missing(capabilities.permitted | capabilities.effective, held);
    if (lacking.length > 0) {
      throw new Error(`process.capabilities: ${lacking.join(", ")} cannot be granted: mycr itself does not hold ${lacking.length > 1 ? "them" : "it"} on this host`);
    }
  }
  return {
    capabilities,
    noNewPrivileges: proc.noNewPrivileges === true,
    seccomp,
  };
}

function dropBoundingSet(keep: bigint): void {
  for (let cap = 0; cap <= lastCapability(); cap++) {
    if (!(keep & (1n << BigInt(cap)))) dropBounding(cap);
  }
}

function setCapabilities(c: CapabilityMasks): void {
  capset({ effective: c.effective, permitted: c.permitted, inheritable: c.inheritable });
  // Ambient capabilities are what a non-root program keeps across execve; start from none.
  clearAmbient();
  for (const cap of c.ambient) raiseAmbient(cap);
}

function loadSeccomp(filter: LoadableSeccomp): void {
  try {
    filter.load();
  } catch (e) {
    if (e instanceof SysError && e.errno === 13 /* EACCES */) {
      throw new Error("seccomp: the kernel refused the filter: without no_new_privs installing one needs CAP_SYS_ADMIN");
    }
    throw e;
  } finally {
    filter.release();
  }
}

/**
 * Applies everything, in the only order that works:
 * 1. the bounding set (dropping needs CAP_SETPCAP, which capset may take away next);
 * 2. the user switch (it keeps capabilities across setuid with PR_SET_KEEPCAPS, so
 *    capset below can set what the spec asks for a non-root user too);
 * 3. capset: effective, permitted, inheritable; then the ambient set;
 * 4. no_new_privs;
 * 5. seccomp, last, so the filter does not have to allow mycr's own setup calls.
 * Without no_new_privs the kernel lets only a holder of CAP_SYS_ADMIN install a filter,
 * so then the filter goes in first, before any privilege is dropped (as runc does); the
 * profile must allow prctl and capset then, as docker's and mycr's default do.
 */
export function applySecurity(s: PreparedSecurity, switchUser: () => void): void {
  if (s.seccomp && !s.noNewPrivileges) loadSeccomp(s.seccomp);
  if (s.capabilities) dropBoundingSet(s.capabilities.bounding);
  switchUser();
  if (s.capabilities) setCapabilities(s.capabilities);
  if (s.noNewPrivileges) setNoNewPrivileges();
  if (s.seccomp && s.noNewPrivileges) loadSeccomp(s.seccomp);
}

/** Frees what prepareSecurity compiled, when setup fails before applySecurity. */
export function releaseSecurity(s: PreparedSecurity | null): void {
  s?.seccomp?.release();
}
