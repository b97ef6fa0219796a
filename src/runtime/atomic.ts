import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isAlive, processRef } from "./procfs";

/**
 * Writes a file so that readers see the old content or the new, never half of it.
 * No fsync: these records describe running processes and live mounts, which a power
 * loss ends anyway; `mycr gc` treats a record lost that way as stale.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    // Name the file: "ENOSPC: no space left on device, write" alone does not say where.
    throw Object.assign(new Error(`cannot write ${path}: ${code === "ENOSPC" ? "no space left on device" : (e as Error).message}`), { code });
  }
}

const STAGED = /^\..+\.staged-(\d+)-(\d+)$/;

/**
 * Creates directory `path` holding `files`, all at once: built under a hidden name
 * beside it, then renamed into place. A mycr killed half-way leaves either nothing
 * or a hidden staging directory named after its process (removeStaleStaging), never
 * a directory without the files that say whose it is. Throws EEXIST when `path` exists.
 */
export function makeDirAtomic(path: string, files: Record<string, string>, mode = 0o700): void {
  const self = processRef(process.pid);
  const staged = join(dirname(path), `.${basename(path)}.staged-${process.pid}-${self?.startTime ?? 0}`);
  try {
    mkdirSync(staged, { mode });
  } catch (e) {
    throw Object.assign(new Error(`cannot create ${path}: ${(e as Error).message}`), { code: (e as NodeJS.ErrnoException).code });
  }
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(join(staged, name), data, { mode: 0o600 });
    renameSync(staged, path);
  } catch (e) {
    rmSync(staged, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") {
      throw Object.assign(new Error(`${path} exists`), { code: "EEXIST" });
    }
    // Node's message for a failed write names no file ("ENOSPC: ..., write"): say which.
    throw Object.assign(new Error(`cannot create ${path}: ${(e as Error).message}`), { code });
  }
}

/** A staging directory's name (see makeDirAtomic) whose mycr is gone. */
export function isStaleStaging(name: string): boolean {
  const m = STAGED.exec(name);
  return m !== null && !isAlive({ pid: Number(m[1]), startTime: Number(m[2]) });
}

/** Removes staging directories in `parent` whose mycr is gone; returns their names. */
export function removeStaleStaging(parent: string): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!isStaleStaging(name)) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Makes directory `path` (and its missing parents) with `mode` at most, and narrows
 * it when it exists with more: a store made by an older mycr, by hand, or under an
 * admin's umask must not stay readable by others. mkdir's mode is only ever narrowed
 * by the umask, never widened, so a new directory needs no chmod.
 */
export function makePrivateDir(path: string, mode: number): void {
  mkdirSync(path, { recursive: true, mode });
  const current = statSync(path).mode & 0o7777;
  if ((current & ~mode) !== 0) chmodSync(path, current & mode);
}
