// Who the container's process runs as, and its resource limits.
// glibc's setgroups/setgid/setuid change every thread of the process (Bun has many);
// only the calling thread survives execve anyway, so either way is right.
import { libc, check, errno } from "./libc";
import { SysError } from "./errno";
import { capget, capset } from "./capabilities";

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

/**
 * setrlimit(2) for the whole process, or prlimit(2) for process `pid` (the native init's
 * child, before it runs anything of the container's); EPERM when raising a hard limit
 * without CAP_SYS_RESOURCE.
 */
export function setrlimit(resource: number, limit: Limit, name = String(resource), pid = 0): void {
  const buf = new BigUint64Array([limit.soft, limit.hard]);
  const r = pid === 0 ? libc.setrlimit(resource, buf) : libc.prlimit(pid, resource, buf, null);
  if (r < 0) throw new SysError(pid === 0 ? "setrlimit" : "prlimit", `${pid === 0 ? "" : `${pid}, `}${name}, ${limit.soft}:${limit.hard}`, errno());
}

/** The thread's file-system ids: setfsuid/setfsgid refuse -1 and return the current id. */
function fsIds(): [number, number] {
  return [libc.setfsuid(-1 >>> 0) >>> 0, libc.setfsgid(-1 >>> 0) >>> 0];
}

/** setfsuid/setfsgid report no error: the ids are read back to see that they took. */
function setFsIds(uid: number, gid: number): void {
  libc.setfsgid(gid);
  libc.setfsuid(uid);
  const [nowUid, nowGid] = fsIds();
  if (nowUid !== uid || nowGid !== gid) throw new Error(`setfsuid/setfsgid(${uid}:${gid}): refused (the thread has ${nowUid}:${nowGid})`);
}

/**
 * Runs `fn` with the calling thread's file-system ids set to uid:gid and every permitted
 * capability kept effective (a nonzero fsuid clears the file capabilities from the
 * effective set; capset raises them again), then puts both back. Files the thread
 * creates meanwhile are owned by uid:gid, which a file system mounted in a user
 * namespace needs of its creator (EOVERFLOW otherwise). Per thread: only the JS
 * thread's synchronous calls act so, and nothing else may run on it meanwhile that
 * creates files elsewhere.
 */
export async function withFsIds<T>(uid: number, gid: number, fn: () => Promise<T>): Promise<T> {
  const caps = capget();
  const [oldUid, oldGid] = fsIds();
  setFsIds(uid, gid);
  try {
    capset({ ...caps, effective: caps.permitted });
    return await fn();
  } finally {
    setFsIds(oldUid, oldGid);
    capset(caps);
  }
}
