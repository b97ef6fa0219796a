// The capabilities a `mycr run` container gets: docker's default set, adjusted by
// --cap-add/--cap-drop, or everything with --privileged.
import { readFileSync } from "node:fs";
import { CAPABILITIES, lastCapability } from "../sys";

/** docker's default set: what ordinary programs that start as root expect to be able to do. */
export const DEFAULT_CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

export class CapabilityError extends Error {}

/** "net_raw", "NET_RAW", "cap_net_raw" -> "CAP_NET_RAW"; "all" -> "ALL". */
export function canonicalCapability(name: string, flag: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === "ALL") return "ALL";
  const full = upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
  if (!(full in CAPABILITIES)) throw new CapabilityError(`${flag} ${name}: unknown capability`);
  return full;
}

/** The capabilities mycr itself may hand out: those the kernel knows and our bounding set still has. */
export function grantableCapabilities(): string[] {
  const last = lastCapability();
  let bounding = (1n << BigInt(last + 1)) - 1n;
  try {
    const line = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (line) bounding = BigInt(`0x${line[1]}`);
  } catch {
    // assume the kernel's full set; capset reports what it refuses
  }
  return Object.entries(CAPABILITIES)
    .filter(([, n]) => n <= last && ((bounding >> BigInt(n)) & 1n) === 1n)
    .map(([name]) => name);
}

/** docker's rules: ALL in --cap-add grants everything not dropped; ALL in --cap-drop starts from nothing. */
export function containerCapabilities(add: string[], drop: string[], privileged: boolean): string[] {
  const adds = add.map((c) => canonicalCapability(c, "--cap-add"));
  const drops = drop.map((c) => canonicalCapability(c, "--cap-drop"));
  let caps: string[];
  // (what the host grants is read only when everything is asked for)
  if (privileged || adds.includes("ALL")) caps = grantableCapabilities().filter((c) => privileged || !drops.includes(c));
  else if (drops.includes("ALL")) caps = adds;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)), ...adds];
  const known = new Set(Object.keys(CAPABILITIES));
  return [...new Set(caps)].filter((c) => known.has(c)).sort((a, b) => CAPABILITIES[a]! - CAPABILITIES[b]!);
}
