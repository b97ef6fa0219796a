import { ptr } from "bun:ffi";
import { PR_SET_DUMPABLE, PR_SET_PDEATHSIG, SIG_DFL, SIG_SETMASK } from "./constants";
import { libc, check, cstr, cStringArray, errno, syscall } from "./libc";
import { SysError } from "./errno";
import { SYS } from "./arch";

export function sethostname(name: string): void {
  const b = Buffer.from(name);
  check(libc.sethostname(b, b.length), "sethostname", name);
}

export function setdomainname(name: string): void {
  const b = Buffer.from(name);
  check(libc.setdomainname(b, b.length), "setdomainname", name);
}

export function setsid(): void {
  check(libc.setsid(), "setsid", "");
}

export function setParentDeathSignal(signal: number): void {
  check(libc.prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0), "prctl", `PR_SET_PDEATHSIG, ${signal}`);
}

const PR_SET_NAME = 15;

/** The process's name as ps shows it (comm, 15 bytes at most); exec sets it from the program's file name. */
export function setProcessName(name: string): void {
  const buf = cstr(name.slice(0, 15));
  check(libc.prctl(PR_SET_NAME, ptr(buf), 0, 0, 0), "prctl", `PR_SET_NAME, ${name}`);
}

/** PR_SET_DUMPABLE: a non-dumpable process's /proc entries need CAP_SYS_PTRACE to open. execve resets it. */
export function setDumpable(on: boolean): void {
  check(libc.prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0), "prctl", `PR_SET_DUMPABLE, ${on ? 1 : 0}`);
}

export function prctl(option: number, arg2: number | bigint, what: string): void {
  check(libc.prctl(option, arg2, 0, 0, 0), "prctl", what);
}

export { kill } from "./signal";

/**
 * Gives the program about to be exec'd a clean signal state: Bun ignores or blocks
 * some signals, and ignored dispositions and the mask survive execve.
 */
export function resetSignals(): void {
  for (let sig = 1; sig <= 64; sig++) {
    if (sig === 9 || sig === 19 || sig === 32 || sig === 33) continue; // KILL, STOP, glibc-internal
    libc.signal(sig, SIG_DFL);
  }
  const empty = new Uint8Array(128);
  check(libc.sigprocmask(SIG_SETMASK, empty, null), "sigprocmask", "SIG_SETMASK, {}");
}

/**
 * Builds execve's arguments now and returns the call itself, so that the final step
 * (after seccomp is loaded) allocates nothing and makes no other system call.
 */
export function prepareExecve(path: string, argv: string[], env: string[]): () => never {
  const keep: Buffer[] = [];
  const vector = (items: string[]) => cStringArray(items, keep);
  const argvp = vector(argv);
  const envp = vector(env);
  const file = cstr(path);
  return () => {
    libc.execve(file, argvp, envp);
    const e = errno();
    void keep;
    throw new SysError("execve", path, e);
  };
}

/** execve(2). Returns only by throwing. */
export function execve(path: string, argv: string[], env: string[]): never {
  return prepareExecve(path, argv, env)();
}

/**
 * Ends the process now, skipping the runtime's teardown (which costs milliseconds a
 * container start should not pay). Only for after all output was written synchronously.
 */
export function exitNow(code: number): never {
  libc._exit(code);
  throw new Error("unreachable");
}

const WNOHANG = 1;

/**
 * waitpid(2) without blocking: the pid reaped and its raw wait status, or null when
 * no child has changed state (or there are none).
 */
export function reapChild(pid = -1): { pid: number; status: number } | null {
  const status = new Int32Array(1);
  const r = libc.waitpid(pid, status, WNOHANG);
  if (r <= 0) return null;
  return { pid: r, status: status[0]! };
}

/** keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a new session keyring for this thread's process. */
export function joinSessionKeyring(name: string): void {
  const KEYCTL_JOIN_SESSION_KEYRING = 1;
  const buffer = cstr(name);
  const r = Number(syscall(SYS.keyctl, KEYCTL_JOIN_SESSION_KEYRING, ptr(buffer), 0, 0));
  if (r < 0 && errno() !== 38 /* ENOSYS: a kernel without keyrings has nothing to isolate */) {
    throw new SysError("keyctl", `JOIN_SESSION_KEYRING, ${name}`, errno());
  }
}
