// libseccomp through bun:ffi (libseccomp.so.2 is on every Debian/Ubuntu host: apt
// depends on it). Opened on first use, so commands that install no filter never load it.
// libseccomp returns negative errno values instead of setting errno.
import { dlopen, FFIType, ptr, type Pointer } from "bun:ffi";
import { SysError } from "./errno";
import { check, cstr, syscall } from "./libc";
import { SYS } from "./arch";

const { i32, u32, ptr: p } = FFIType;

function open() {
  return dlopen("libseccomp.so.2", {
    seccomp_init: { args: [u32], returns: p },
    seccomp_release: { args: [p], returns: FFIType.void },
    seccomp_arch_resolve_name: { args: [p], returns: u32 },
    seccomp_arch_native: { args: [], returns: u32 },
    seccomp_arch_add: { args: [p, u32], returns: i32 },
    seccomp_attr_set: { args: [p, i32, u32], returns: i32 },
    seccomp_syscall_resolve_name: { args: [p], returns: i32 },
    seccomp_rule_add_array: { args: [p, u32, i32, u32, p], returns: i32 },
    seccomp_load: { args: [p], returns: i32 },
    seccomp_export_bpf: { args: [p, i32], returns: i32 },
  }).symbols;
}

let lib: ReturnType<typeof open> | null = null;

/**
 * Opens libseccomp now. init must do this before pivot_root: afterwards the host's
 * libraries are out of reach (the container's root may have none).
 */
export function loadLibseccomp(): void {
  seccomp();
}

function seccomp(): ReturnType<typeof open> {
  if (!lib) {
    try {
      lib = open();
    } catch (e) {
      throw new Error(`seccomp needs libseccomp.so.2 (apt-get install libseccomp2): ${(e as Error).message}`);
    }
  }
  return lib;
}

/** Filter actions (SCMP_ACT_*), as libseccomp encodes them. */
export const SCMP_ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  NOTIFY: 0x7fc00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
  errno: (e: number) => (0x00050000 | (e & 0xffff)) >>> 0,
  trace: (msg: number) => (0x7ff00000 | (msg & 0xffff)) >>> 0,
} as const;

/** Argument comparisons (enum scmp_compare). */
export const SCMP_CMP: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** Filter attributes (enum scmp_filter_attr) we set. */
export const SCMP_FLTATR = {
  CTL_NNP: 3,
  CTL_TSYNC: 4,
  CTL_LOG: 6,
  CTL_SSB: 7,
} as const;

export interface ArgCondition {
  index: number;
  op: number;
  value: bigint;
  valueTwo: bigint;
}

function checkRc(rc: number, call: string, detail: string): void {
  if (rc < 0) throw new SysError(call, detail, -rc);
}

/** A filter being built. Nothing touches the kernel until load(). */
export class SeccompFilter {
  private ctx: Pointer | null;

  constructor(defaultAction: number) {
    // a ptr return is a Pointer or null; bun:ffi's types widen it
    this.ctx = seccomp().seccomp_init(defaultAction) as Pointer | null;
    if (this.ctx === null) throw new SysError("seccomp_init", `0x${defaultAction.toString(16)}`, 22);
  }

  private handle(): Pointer {
    if (this.ctx === null) throw new Error("seccomp filter used after release");
    return this.ctx;
  }

  /** Architecture token for a libseccomp name ("x86_64", "x86", "aarch64"), or null if unknown. */
  static archToken(name: string): number | null {
    const token = seccomp().seccomp_arch_resolve_name(cstr(name));
    return token === 0 ? null : token;
  }

  /** Syscall number on the native architecture, or null when libseccomp does not know the name. */
  static syscallNumber(name: string): number | null {
    const nr = seccomp().seccomp_syscall_resolve_name(cstr(name));
    return nr === -1 /* __NR_SCMP_ERROR */ ? null : nr;
  }

  addArch(name: string, token: number): void {
    const rc = seccomp().seccomp_arch_add(this.handle(), token);
    if (rc === -17 /* EEXIST: the native one is always there */) return;
    checkRc(rc, "seccomp_arch_add", name);
  }

  setAttribute(attr: number, value: number, what: string): void {
    checkRc(seccomp().seccomp_attr_set(this.handle(), attr, value), "seccomp_attr_set", what);
  }

  addRule(action: number, syscall: number, name: string, conditions: ArgCondition[]): void {
    // struct scmp_arg_cmp { unsigned int arg; enum scmp_compare op; u64 datum_a; u64 datum_b; }
    const array = Buffer.alloc(Math.max(1, conditions.length) * 24);
    conditions.forEach((c, i) => {
      array.writeUInt32LE(c.index, i * 24);
      array.writeUInt32LE(c.op, i * 24 + 4);
      array.writeBigUInt64LE(BigInt.asUintN(64, c.value), i * 24 + 8);
      array.writeBigUInt64LE(BigInt.asUintN(64, c.valueTwo), i * 24 + 16);
    });
    const rc = seccomp().seccomp_rule_add_array(this.handle(), action, syscall, conditions.length, ptr(array));
    checkRc(rc, "seccomp_rule_add", `${name}, action 0x${action.toString(16)}, ${conditions.length} argument condition(s)`);
  }

  /** Installs the filter on the calling thread (TSYNC stays off unless set). */
  load(): void {
    checkRc(seccomp().seccomp_load(this.handle()), "seccomp_load", "");
  }

  /** Writes the compiled BPF program to `fd` (for debugging and tests). */
  exportBpf(fd: number): void {
    checkRc(seccomp().seccomp_export_bpf(this.handle(), fd), "seccomp_export_bpf", String(fd));
  }

  release(): void {
    if (this.ctx !== null) seccomp().seccomp_release(this.ctx);
    this.ctx = null;
  }
}

/**
 * Installs an already compiled filter (struct sock_filter[], 8 bytes each) with
 * seccomp(2) directly: what libseccomp's load does, without libseccomp.
 */
export function loadSeccompProgram(program: Uint8Array, flags: number): void {
  const SECCOMP_SET_MODE_FILTER = 1;
  const fprog = new Uint8Array(16); // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  const view = new DataView(fprog.buffer);
  view.setUint16(0, program.length / 8, true);
  view.setBigUint64(8, BigInt(ptr(program)), true);
  check(syscall(SYS.seccomp, SECCOMP_SET_MODE_FILTER, flags, ptr(fprog), 0), "seccomp", `SET_MODE_FILTER, ${program.length / 8} instructions`);
}
