// flock(2): concurrent mycr processes serialise changes to shared records with it.
// The lock belongs to the open file, so a process that dies releases it: no stale locks.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { libc, check } from "./libc";

const LOCK_EX = 2;
const LOCK_UN = 8;

/**
 * Runs `fn` holding an exclusive lock on `path` (created if missing). `fn` is
 * synchronous on purpose: flock blocks the JS thread, so the section must be short.
 */
export function withLock<T>(path: string, fn: () => T): T {
  mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  const fd = openSync(path, "a", 0o600);
  try {
    check(libc.flock(fd, LOCK_EX), "flock", `${path}, LOCK_EX`);
    try {
      return fn();
    } finally {
      libc.flock(fd, LOCK_UN);
    }
  } finally {
    closeSync(fd);
  }
}
