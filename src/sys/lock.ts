// flock(2) on a lock file: how concurrent mycr processes take turns with a store entry.
import { libc, errno } from "./libc";
import { SysError } from "./errno";
import { openat } from "./openat";
import { AT_FDCWD, O_CLOEXEC, O_CREAT, O_RDWR } from "./constants";
import { close } from "./fd";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

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
