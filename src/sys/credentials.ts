// Who the container's process runs as, and its resource limits.
// glibc's setgroups/setgid/setuid change every thread of the process (Bun has many);
// only the calling thread survives execve anyway, so either way is right.
import { libc, check, errno } from "./libc";
import { SysError } from "./errno";

export function setgroups(gids: number[]): void {
  const list = new Uint32Array(Math.max(gids.length, 1));
  list.set(gids);
  check(libc.setgroups(gids.length, list), "setgroups", `[${gids.join(",")}]`);
}

export function setgid(gid: number): void {
  check(libc.setgid(gid), "setgid", String(gid));
}

export function setuid(uid: number): void {
  check(libc.setuid(uid), "setuid", String(uid));
}

/** RLIMIT_* numbers, identical on x86_64 and aarch64 (asm-generic/resource.h). */
export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

export const RLIM_INFINITY = 0xffffffffffffffffn;

export interface Limit {
  soft: bigint;
  hard: bigint;
}

export function getrlimit(resource: number, name = String(resource)): Limit {
  const buf = new BigUint64Array(2);
  check(libc.getrlimit(resource, buf), "getrlimit", name);
  return { soft: buf[0]!, hard: buf[1]! };
}

/** setrlimit(2) for the whole process (EPERM when raising a hard limit without CAP_SYS_RESOURCE). */
export function setrlimit(resource: number, limit: Limit, name = String(resource)): void {
  const buf = new BigUint64Array([limit.soft, limit.hard]);
  if (libc.setrlimit(resource, buf) < 0) throw new SysError("setrlimit", `${name}, ${limit.soft}:${limit.hard}`, errno());
}
