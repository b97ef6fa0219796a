// bpf(2) for cgroup device programs: load one, attach it to a cgroup, find and detach
// the ones attached. union bpf_attr layouts from include/uapi/linux/bpf.h (the same on
// x86_64 and aarch64); fields a command does not use stay zero, as the kernel requires.
import { ptr } from "bun:ffi";
import { SYS } from "./arch";
import { check, cstr, errno, syscall } from "./libc";
import { SysError } from "./errno";

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;

const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6; // enum bpf_attach_type
const BPF_F_ALLOW_MULTI = 1 << 1;
const BPF_F_REPLACE = 1 << 2;

/** Bytes of bpf_attr passed: past every field used here, short of any newer kernel field we leave zero. */
const ATTR_SIZE = 128;

const ENOENT = 2;
const EINVAL = 22;
const ENOSPC = 28;

function bpf(cmd: number, attr: Uint8Array): number | bigint {
  return syscall(SYS.bpf, cmd, ptr(attr), attr.length);
}

/** The verifier's last lines, joined into one: the instruction it stopped at and why. */
function verifierSummary(log: Uint8Array): string {
  const end = log.indexOf(0);
  const text = Buffer.from(log.subarray(0, end < 0 ? log.length : end)).toString("utf8");
  return text.trim().split("\n").filter(Boolean).slice(-3).join(" | ");
}

/**
 * Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn[], 8 bytes each) and
 * returns its fd. A program the kernel refuses is loaded again with a log, and the
 * error carries the verifier's reason.
 */
export function loadDeviceProgram(insns: Uint8Array, name: string): number {
  const license = cstr("GPL");
  const attempt = (log: Uint8Array | null): number | bigint => {
    const attr = new Uint8Array(ATTR_SIZE);
    const v = new DataView(attr.buffer);
    v.setUint32(0, BPF_PROG_TYPE_CGROUP_DEVICE, true);
    v.setUint32(4, insns.length / 8, true);
    v.setBigUint64(8, BigInt(ptr(insns)), true);
    v.setBigUint64(16, BigInt(ptr(license)), true);
    if (log) {
      v.setUint32(24, 1, true); // log_level
      v.setUint32(28, log.length, true);
      v.setBigUint64(32, BigInt(ptr(log)), true);
    }
    attr.set(Buffer.from(name.slice(0, 15), "ascii"), 48); // prog_name[16], shown by bpftool
    return bpf(BPF_PROG_LOAD, attr);
  };
  const detail = `BPF_PROG_LOAD, cgroup_device, ${insns.length / 8} instructions`;
  const fd = attempt(null);
  if (Number(fd) >= 0) return Number(fd);
  const firstErrno = errno();
  const log = new Uint8Array(1 << 20);
  const again = attempt(log);
  if (Number(again) >= 0) return Number(again); // refused once, not twice: take it
  const code = errno();
  // ENOSPC here means the log did not fit, not the program: report the first failure.
  const summary = verifierSummary(log);
  throw new SysError("bpf", summary ? `${detail}; verifier: ${summary}` : detail, code === ENOSPC ? firstErrno : code);
}

function attachAttr(cgroupFd: number, progFd: number, flags: number, replaceFd = 0): Uint8Array {
  const attr = new Uint8Array(ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setUint32(0, cgroupFd, true); // target_fd
  v.setUint32(4, progFd, true); // attach_bpf_fd
  v.setUint32(8, BPF_CGROUP_DEVICE, true);
  v.setUint32(12, flags, true);
  v.setUint32(16, replaceFd, true); // replace_bpf_fd
  return attr;
}

/**
 * Attaches a device program to the cgroup open at `cgroupFd`, beside any others (all
 * must allow an access), as runc and crun attach theirs. With `replaceFd`, the program
 * open there is swapped for it in one step; false when the kernel cannot (before 5.6)
 * or that program is no longer attached, so the caller attaches and detaches instead.
 */
export function attachDeviceProgram(cgroupFd: number, progFd: number, replaceFd?: number): boolean {
  const flags = BPF_F_ALLOW_MULTI | (replaceFd === undefined ? 0 : BPF_F_REPLACE);
  const r = bpf(BPF_PROG_ATTACH, attachAttr(cgroupFd, progFd, flags, replaceFd));
  if (Number(r) < 0 && replaceFd !== undefined && (errno() === EINVAL || errno() === ENOENT)) return false;
  check(r, "bpf", `BPF_PROG_ATTACH, cgroup_device, fd ${progFd} to cgroup fd ${cgroupFd}`);
  return true;
}

/** Detaches one device program from the cgroup; false when it was not attached (any more). */
export function detachDeviceProgram(cgroupFd: number, progFd: number): boolean {
  const r = bpf(BPF_PROG_DETACH, attachAttr(cgroupFd, progFd, 0));
  if (Number(r) < 0 && errno() === ENOENT) return false;
  check(r, "bpf", `BPF_PROG_DETACH, cgroup_device, fd ${progFd} from cgroup fd ${cgroupFd}`);
  return true;
}

/** Ids of the device programs attached to this cgroup itself (not those inherited from above). */
export function attachedDevicePrograms(cgroupFd: number): number[] {
  for (let room = 64; ; room *= 2) {
    const ids = new Uint32Array(room);
    const attr = new Uint8Array(ATTR_SIZE);
    const v = new DataView(attr.buffer);
    v.setUint32(0, cgroupFd, true); // target_fd
    v.setUint32(4, BPF_CGROUP_DEVICE, true);
    v.setBigUint64(16, BigInt(ptr(ids)), true); // prog_ids
    v.setUint32(24, room, true); // prog_cnt: room in, count out
    const r = bpf(BPF_PROG_QUERY, attr);
    if (Number(r) < 0 && errno() === ENOSPC && room < 65536) continue;
    check(r, "bpf", `BPF_PROG_QUERY, cgroup_device, cgroup fd ${cgroupFd}`);
    return [...ids.subarray(0, v.getUint32(24, true))];
  }
}

/** An fd for the program with this id, or null when it is gone. */
export function programFdById(id: number): number | null {
  const attr = new Uint8Array(ATTR_SIZE);
  new DataView(attr.buffer).setUint32(0, id, true);
  const r = bpf(BPF_PROG_GET_FD_BY_ID, attr);
  if (Number(r) < 0 && errno() === ENOENT) return null;
  return check(r, "bpf", `BPF_PROG_GET_FD_BY_ID, ${id}`);
}
