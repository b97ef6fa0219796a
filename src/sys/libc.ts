// The one binding of libc. Every other module calls the typed wrappers in src/sys,
// never these raw symbols, so each result is checked in one place.
import { encodeBytes } from "./bytes";
import { dlopen, FFIType, ptr as addressOf, read, type ConvertFns, type FFIFunction } from "bun:ffi";
import { SysError } from "./errno";
import { noteLibcLoaded } from "./libc-loaded";

const { i16, i32, u32, i64, u64, ptr } = FFIType;

const SIGNATURES = {
  __errno_location: { args: [], returns: ptr },
  unshare: { args: [i32], returns: i32 },
  setns: { args: [i32, i32], returns: i32 },
  mount: { args: [ptr, ptr, ptr, u64, ptr], returns: i32 },
  umount2: { args: [ptr, i32], returns: i32 },
  // variadic in C; every argument is passed as a 64-bit integer (pointers via ptr()).
  // Always all six: a register not passed holds garbage, and calls such as fsconfig read all five of theirs.
  syscall: { args: [i64, i64, i64, i64, i64, i64, i64], returns: i64 },
  chdir: { args: [ptr], returns: i32 },
  fchdir: { args: [i32], returns: i32 },
  chroot: { args: [ptr], returns: i32 },
  sethostname: { args: [ptr, u64], returns: i32 },
  setdomainname: { args: [ptr, u64], returns: i32 },
  execve: { args: [ptr, ptr, ptr], returns: i32 },
  prctl: { args: [i32, u64, u64, u64, u64], returns: i32 },
  capget: { args: [ptr, ptr], returns: i32 },
  capset: { args: [ptr, ptr], returns: i32 },
  setsid: { args: [], returns: i32 },
  ioctl: { args: [i32, u64, ptr], returns: i32 },
  socket: { args: [i32, i32, i32], returns: i32 },
  socketpair: { args: [i32, i32, i32, ptr], returns: i32 },
  // who is at the other end of a unix socket (src/sys/peer.ts)
  getsockopt: { args: [i32, i32, i32, ptr, ptr], returns: i32 },
  poll: { args: [ptr, u64, i32], returns: i32 },
  connect: { args: [i32, ptr, u32], returns: i32 },
  close: { args: [i32], returns: i32 },
  kill: { args: [i32, i32], returns: i32 },
  mknod: { args: [ptr, u32, u64], returns: i32 },
  umask: { args: [u32], returns: u32 },
  signal: { args: [i32, u64], returns: u64 },
  sigprocmask: { args: [i32, ptr, ptr], returns: i32 },
  _exit: { args: [i32], returns: FFIType.void },
  dup2: { args: [i32, i32], returns: i32 },
  fcntl: { args: [i32, i32, u64], returns: i32 },
  // terminals (src/sys/pty.ts, src/sys/termios.ts)
  posix_openpt: { args: [i32], returns: i32 },
  grantpt: { args: [i32], returns: i32 },
  unlockpt: { args: [i32], returns: i32 },
  ptsname_r: { args: [i32, ptr, u64], returns: i32 },
  isatty: { args: [i32], returns: i32 },
  tcgetattr: { args: [i32, ptr], returns: i32 },
  tcsetattr: { args: [i32, i32, ptr], returns: i32 },
  cfmakeraw: { args: [ptr], returns: FFIType.void },
  tcsetpgrp: { args: [i32, i32], returns: i32 },
  setpgid: { args: [i32, i32], returns: i32 },
  // fd passing (src/sys/fd.ts)
  sendmsg: { args: [i32, ptr, i32], returns: i64 },
  recvmsg: { args: [i32, ptr, i32], returns: i64 },
  // credentials and limits (src/sys/credentials.ts)
  setgroups: { args: [u64, ptr], returns: i32 },
  setgid: { args: [u32], returns: i32 },
  setuid: { args: [u32], returns: i32 },
  // per thread, never broadcast by glibc; they return the previous id and report no error
  setfsuid: { args: [u32], returns: i32 },
  setfsgid: { args: [u32], returns: i32 },
  getrlimit: { args: [i32, ptr], returns: i32 },
  setrlimit: { args: [i32, ptr], returns: i32 },
  waitpid: { args: [i32, ptr, i32], returns: i32 },
  waitid: { args: [i32, i32, ptr, i32], returns: i32 },
  // the --init reaper's child (src/sys/spawn.ts)
  posix_spawn: { args: [ptr, ptr, ptr, ptr, ptr, ptr], returns: i32 },
  posix_spawnattr_init: { args: [ptr], returns: i32 },
  posix_spawnattr_destroy: { args: [ptr], returns: i32 },
  posix_spawnattr_setflags: { args: [ptr, i16], returns: i32 },
  posix_spawnattr_setsigmask: { args: [ptr, ptr], returns: i32 },
  posix_spawnattr_setsigdefault: { args: [ptr, ptr], returns: i32 },
  posix_spawnattr_setpgroup: { args: [ptr, i32], returns: i32 },
  // paths inside a root (src/sys/openat.ts)
  openat: { args: [i32, ptr, i32, u32], returns: i32 },
  mkdirat: { args: [i32, ptr, u32], returns: i32 },
  readlinkat: { args: [i32, ptr, ptr, u64], returns: i64 },
  // locks and pipes of detached containers (src/sys/lock.ts, src/sys/pipe.ts)
  flock: { args: [i32, i32], returns: i32 },
  pipe2: { args: [ptr, i32], returns: i32 },
  // image layers written entry by entry below a layer root (src/sys/files-at.ts), store locks (src/sys/lock.ts)
  mknodat: { args: [i32, ptr, u32, u64], returns: i32 },
  symlinkat: { args: [ptr, i32, ptr], returns: i32 },
  linkat: { args: [i32, ptr, i32, ptr, i32], returns: i32 },
  unlinkat: { args: [i32, ptr, i32], returns: i32 },
  fchownat: { args: [i32, ptr, u32, u32, i32], returns: i32 },
  fchmodat: { args: [i32, ptr, u32, i32], returns: i32 },
  utimensat: { args: [i32, ptr, ptr, i32], returns: i32 },
  futimens: { args: [i32, ptr], returns: i32 },
  lsetxattr: { args: [ptr, ptr, ptr, u64, i32], returns: i32 },
  lgetxattr: { args: [ptr, ptr, ptr, u64], returns: i64 },
  llistxattr: { args: [ptr, ptr, u64], returns: i64 },
  flistxattr: { args: [i32, ptr, u64], returns: i64 },
  fgetxattr: { args: [i32, ptr, ptr, u64], returns: i64 },
  // the process's scheduling attributes (src/sys/sched.ts)
  personality: { args: [u64], returns: i32 },
  sched_setaffinity: { args: [i32, u64, ptr], returns: i32 },
} satisfies Record<string, FFIFunction>;

/**
 * Each symbol is bound on its first call, not all when this module loads: bun:ffi compiles
 * a trampoline per symbol (TinyCC) at dlopen, ~0.1-0.2 ms each, so binding all 80 cost
 * every process ~10 ms though `kill` calls two and `run` about half
 * (docs/performance.md, "Build-level costs"). glibc is mapped already, so each
 * dlopen of it only takes a reference.
 */
function bindOnFirstCall<Fns extends Record<string, FFIFunction>>(library: string, signatures: Fns): ConvertFns<Fns> {
  const symbols = {} as ConvertFns<Fns>;
  for (const name of Object.keys(signatures)) {
    Object.defineProperty(symbols, name, {
      configurable: true,
      get() {
        const bound = dlopen(library, { [name]: signatures[name]! }).symbols[name];
        Object.defineProperty(symbols, name, { value: bound });
        noteLibcLoaded();
        return bound;
      },
    });
  }
  return symbols;
}

export const libc = bindOnFirstCall("libc.so.6", SIGNATURES);

/**
 * Binds every symbol now. Binding maps new executable memory (TinyCC's output), which a
 * container's seccomp profile may forbid; Bun's init calls this before its setup, so
 * nothing is bound once the container's limits hold.
 */
export function bindEveryLibcSymbol(): void {
  for (const name of Object.keys(SIGNATURES)) void libc[name as keyof typeof SIGNATURES];
}

/** syscall(2) with the arguments given and zeros for the rest. */
export function syscall(nr: number, ...args: number[]): number | bigint {
  const a = [...args, 0, 0, 0, 0, 0, 0];
  return libc.syscall(nr, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!);
}

export function errno(): number {
  const p = libc.__errno_location();
  return p === null ? 0 : read.i32(p, 0);
}

/** NUL-terminated copy of a string for passing to C: its bytes exactly (see bytes.ts). */
export function cstr(s: string): Buffer {
  return Buffer.concat([encodeBytes(s), Buffer.of(0)]);
}

/** Throws a SysError naming the call when a libc call returned -1. */
export function check(result: number | bigint, call: string, detail: string): number {
  if (Number(result) < 0) throw new SysError(call, detail, errno());
  return Number(result);
}

/**
 * A NULL-terminated char*[] for C (argv, envp). The strings' buffers are pushed to
 * `keep`, which the caller holds until the call returns: the array only points at them.
 */
export function cStringArray(items: string[], keep: Buffer[]): BigUint64Array {
  const v = new BigUint64Array(items.length + 1);
  items.forEach((s, i) => {
    const b = cstr(s);
    keep.push(b);
    v[i] = BigInt(addressOf(b));
  });
  return v;
}
