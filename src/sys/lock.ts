// flock(2) on lock files: how concurrent mycr processes take turns with shared records
// and store entries. A lock belongs to the open file, so a process that dies releases
// it: no stale locks.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { libc, check, errno } from "./libc";
import { SysError } from "./errno";
import { openat } from "./openat";
import { AT_FDCWD, O_CLOEXEC, O_CREAT, O_RDWR } from "./constants";
import { close } from "./fd";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EWOULDBLOCK = 11;

/**
 * Runs `fn` holding an exclusive (or, with `shared`, a shared) lock on `path` (created if missing). `fn` is
 * synchronous on purpose: flock blocks the JS thread, so the section must be short.
 */
export function withLock<T>(path: string, fn: () => T, shared = false): T {
  mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  const fd = openSync(path, "a", 0o600);
  try {
    check(libc.flock(fd, shared ? LOCK_SH : LOCK_EX), "flock", `${path}, ${shared ? "LOCK_SH" : "LOCK_EX"}`);
    try {
      return fn();
    } finally {
      libc.flock(fd, LOCK_UN);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Like withLock, for a section that awaits (a subprocess): the lock is waited for in the
 * event loop, never blocking the thread, so a process serving many containers (the
 * supervisor) goes on with the others meanwhile.
 */
export async function withLockAsync<T>(path: string, fn: () => Promise<T>, shared = false): Promise<T> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  let fd = tryLock(path, shared);
  // Backing off: many waiters (50 starts at once) must not spin the CPU they wait for.
  for (let delay = 2; fd === null; delay = Math.min(delay * 2, 50)) {
    await Bun.sleep(delay);
    fd = tryLock(path, shared);
  }
  try {
    return await fn();
  } finally {
    unlock(fd);
  }
}

/** Opens (creating) `path` and tries to lock it; returns the fd, or null if another holder has it. */
export function tryLock(path: string, shared = false): number | null {
  const fd = openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600);
  if (libc.flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) === 0) return fd;
  const e = errno();
  close(fd);
  if (e === EWOULDBLOCK) return null;
  throw new SysError("flock", path, e);
}

/** Releases a lock taken with tryLock (closing the fd drops it). */
export function unlock(fd: number): void {
  close(fd);
}
