// linux.resources.devices as a BPF_PROG_TYPE_CGROUP_DEVICE program: cgroup v2 has no
// devices files; the kernel asks a program attached to the cgroup instead, with
// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } and takes
// 1 as allow, 0 as deny (EPERM).
//
// Meaning, as runc and crun read the rules: in order, the last rule that matches
// decides, and an access no rule matches is denied. mycr decides each access a request
// asks for (mknod, read, write) on its own, so "deny c 1:3 w" also refuses an open for
// reading and writing, and "allow r" plus a later "allow w" permit "rw" together, as the
// v1 devices controller would; runc and crun match a request only against rules that
// hold all of its accesses.
import type { DeviceCgroupRule } from "../spec/types";
import { and32, assemble, exit, ja, jne32, jset, label, loadWord, mov64, rsh32, type Item } from "./bpf-asm";
import { CgroupError } from "./types";

// access_type: the device type in the low 16 bits, the access in the high 16 bits.
const DEV_BLOCK = 1;
const DEV_CHAR = 2;
const ACCESSES: Array<{ letter: "m" | "r" | "w"; bit: number }> = [
  { letter: "m", bit: 1 }, // BPF_DEVCG_ACC_MKNOD
  { letter: "r", bit: 2 }, // BPF_DEVCG_ACC_READ
  { letter: "w", bit: 4 }, // BPF_DEVCG_ACC_WRITE
];

// Registers: r1 holds the context on entry; r2-r5 its fields once loaded.
const CTX = 1;
const TYPE = 2;
const ACCESS = 3;
const MAJOR = 4;
const MINOR = 5;

/** A rule checked and in the program's terms: null means "any". */
export interface DeviceMatch {
  allow: boolean;
  type: number | null;
  major: number | null;
  minor: number | null;
  access: string;
}

const U32_MAX = 0xffffffff;

function number(rule: DeviceCgroupRule, key: "major" | "minor", where: string): number | null {
  const n = rule[key];
  if (n === undefined || n === null || n === -1) return null;
  if (!Number.isInteger(n) || n < -1 || n > U32_MAX) throw new CgroupError(`${where}.${key}: must be a device number or -1 (any), not ${n}`);
  return n;
}

/** Checks a rule and puts it in the program's terms; `where` names it in errors. */
export function deviceMatch(rule: DeviceCgroupRule, where: string): DeviceMatch {
  if (typeof rule.allow !== "boolean") throw new CgroupError(`${where}.allow: must be true or false`);
  const type = rule.type ?? "a";
  if (type !== "a" && type !== "c" && type !== "b") throw new CgroupError(`${where}.type: must be a, c or b, not "${String(type)}"`);
  const access = rule.access || "rwm"; // absent or empty: every access, as the v1 files read it
  if (typeof access !== "string" || ![...access].every((c) => "rwm".includes(c))) {
    throw new CgroupError(`${where}.access: must be a combination of r, w and m, not "${String(access)}"`);
  }
  // "a" is every device whatever numbers it carries, as the v1 devices files read "a".
  if (type === "a") return { allow: rule.allow, type: null, major: null, minor: null, access };
  return { allow: rule.allow, type: type === "b" ? DEV_BLOCK : DEV_CHAR, major: number(rule, "major", where), minor: number(rule, "minor", where), access };
}

/**
 * The decision for one access (mknod, read or write): the rules that name it, last
 * first; the first whose device matches returns deny or goes on to the next access.
 * Emission stops at a rule that matches every device: the kernel's verifier refuses
 * instructions no path reaches.
 */
function decide(rules: DeviceMatch[], letter: string, bit: number, decided: string): Item[] {
  const out: Item[] = [jset(ACCESS, bit, `${letter}_asked`), ja(decided), label(`${letter}_asked`)];
  const named = rules.map((r, i) => ({ r, i })).filter(({ r }) => r.access.includes(letter)).reverse();
  for (const { r, i } of named) {
    const next = `${letter}_after_${i}`;
    const conditions: Item[] = [];
    if (r.type !== null) conditions.push(jne32(TYPE, r.type, next));
    if (r.major !== null) conditions.push(jne32(MAJOR, r.major, next));
    if (r.minor !== null) conditions.push(jne32(MINOR, r.minor, next));
    out.push(...conditions);
    out.push(...(r.allow ? [ja(decided)] : [mov64(0, 0), exit()]));
    if (conditions.length === 0) return out; // every device: nothing earlier is reached
    out.push(label(next));
  }
  out.push(mov64(0, 0), exit()); // no rule names this device: denied
  return out;
}

/** The program's instructions, before assembly (for tests and for reading). */
export function deviceFilterItems(rules: DeviceMatch[]): Item[] {
  const items: Item[] = [
    loadWord(TYPE, CTX, 0),
    and32(TYPE, 0xffff),
    loadWord(ACCESS, CTX, 0),
    rsh32(ACCESS, 16),
    loadWord(MAJOR, CTX, 4),
    loadWord(MINOR, CTX, 8),
  ];
  for (const { letter, bit } of ACCESSES) {
    const decided = `${letter}_decided`;
    items.push(...decide(rules, letter, bit, decided), label(decided));
  }
  items.push(mov64(0, 1), exit()); // every access asked for was allowed
  return items;
}

/** linux.resources.devices (in order, defaults already appended) as a loadable program. */
export function deviceFilter(rules: DeviceCgroupRule[]): Uint8Array {
  const matches = rules.map((r, i) => deviceMatch(r, `linux.resources.devices[${i}]`));
  try {
    return assemble(deviceFilterItems(matches));
  } catch (e) {
    throw new CgroupError(`linux.resources.devices: ${rules.length} rules are more than one device program can hold (${(e as Error).message})`);
  }
}
