// Capabilities of the calling thread: the bounding set, the effective, permitted and
// inheritable sets (capset), and the ambient set. Every call here acts on the calling
// thread only — in init that is the JS thread, the one that calls execve, so what is
// set here is what the container's program starts with.
import { readFileSync } from "node:fs";
import { PR_SET_NO_NEW_PRIVS } from "./constants";
import { libc, check } from "./libc";

/** Capability numbers by name (include/uapi/linux/capability.h). */
export const CAPABILITIES: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4,
  CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10, CAP_NET_BROADCAST: 11, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15, CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17, CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20, CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25, CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29, CAP_AUDIT_CONTROL: 30, CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35, CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
};

const PR_CAPBSET_DROP = 24;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
/** _LINUX_CAPABILITY_VERSION_3: two 32-bit data structs, capabilities 0-63. */
const CAP_VERSION_3 = 0x20080522;

let lastCap: number | undefined;

/**
 * The highest capability the running kernel knows, read once per process: it is fixed for the
 * boot, and callers test it once per capability (a start read the file ~40 times).
 */
export function lastCapability(): number {
  if (lastCap !== undefined) return lastCap;
  try {
    lastCap = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
  } catch {
    lastCap = Math.max(...Object.values(CAPABILITIES));
  }
  return lastCap;
}

export function capabilityName(cap: number): string {
  return Object.keys(CAPABILITIES).find((n) => CAPABILITIES[n] === cap) ?? `capability ${cap}`;
}

export interface CapabilitySets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

/** struct __user_cap_header_struct { u32 version; i32 pid } — pid 0: the calling thread. */
function header(): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(CAP_VERSION_3, 0);
  h.writeInt32LE(0, 4);
  return h;
}

export function capget(): CapabilitySets {
  // two struct __user_cap_data_struct { u32 effective, permitted, inheritable }: low and high words
  const data = Buffer.alloc(24);
  check(libc.capget(header(), data), "capget", "self");
  const word = (field: number) => BigInt(data.readUInt32LE(field)) | (BigInt(data.readUInt32LE(12 + field)) << 32n);
  return { effective: word(0), permitted: word(4), inheritable: word(8) };
}

export function capset(sets: CapabilitySets): void {
  const data = Buffer.alloc(24);
  const put = (field: number, value: bigint) => {
    data.writeUInt32LE(Number(value & 0xffffffffn), field);
    data.writeUInt32LE(Number((value >> 32n) & 0xffffffffn), 12 + field);
  };
  put(0, sets.effective);
  put(4, sets.permitted);
  put(8, sets.inheritable);
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  check(
    libc.capset(header(), data),
    "capset",
    `effective=${hex(sets.effective)}, permitted=${hex(sets.permitted)}, inheritable=${hex(sets.inheritable)}`,
  );
}

/** Removes a capability from the bounding set for good (needs CAP_SETPCAP). */
export function dropBounding(cap: number): void {
  check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "prctl", `PR_CAPBSET_DROP, ${capabilityName(cap)}`);
}

export function clearAmbient(): void {
  check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl", "PR_CAP_AMBIENT_CLEAR_ALL");
}

/** Adds to the ambient set; the capability must be both permitted and inheritable. */
export function raiseAmbient(cap: number): void {
  check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0), "prctl", `PR_CAP_AMBIENT_RAISE, ${capabilityName(cap)}`);
}

/** execve can no longer grant privileges (setuid bits, file capabilities). Per thread. */
export function setNoNewPrivileges(): void {
  check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl", "PR_SET_NO_NEW_PRIVS, 1");
}
