// Steps every driver shares: making directories, waiting for a cgroup to empty, removing it.
import { mkdirSync, readdirSync, rmdirSync } from "node:fs";
import { dirname } from "node:path";
import { readPids } from "./files";
import type { CgroupRecord } from "./types";

/**
 * mkdir -p that reports which directories it created, top-down. A parent can vanish
 * between its mkdir and its child's: another container's end removes the shared "mycr"
 * directory once it is empty (removeSharedParent). Then it starts over; once the child
 * exists its parent cannot go (EBUSY).
 */
export function makeDirs(dir: string): string[] {
  for (let attempt = 1; ; attempt++) {
    try {
      return makeDirsOnce(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 100) throw e;
    }
  }
}

function makeDirsOnce(dir: string): string[] {
  const created: string[] = [];
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      mkdirSync(d);
      missing.unshift(d);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") break;
      if (code !== "ENOENT" || d === "/") throw e;
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    created.push(d);
  }
  return created;
}

export async function waitEmpty(dir: string, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (readPids(dir).length === 0) return true;
    if (Date.now() > deadline) return false;
    await Bun.sleep(5);
  }
}

/** Notes in the record which directories above `dir` makeDirs made for it (`created`). */
export function noteMadeParents(record: CgroupRecord, key: string, dir: string, created: string[]): void {
  const above = created.filter((d) => d !== dir);
  if (above.length === 0) return;
  record.madeParents = { ...record.madeParents, [key]: above };
}

/**
 * Removes the shared "mycr" directory once no container lives there. A cgroup the kernel
 * is still finishing with (v1 memory offlining a child just removed) answers EBUSY with
 * no child left: retry then; with children left, another container lives there.
 */
async function removeSharedParent(parent: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    try {
      rmdirSync(parent);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EBUSY" || hasChildren(parent)) return;
      await Bun.sleep(5);
    }
  }
}

function hasChildren(dir: string): boolean {
  try {
    return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());
  } catch {
    return false;
  }
}

/**
 * Removes a cgroup directory (retrying while the kernel finishes with exiting tasks),
 * then `parent` if given and empty (the shared "mycr" directory goes with its last
 * container), then the directories made for it, deepest first, while they are empty.
 */
export async function removeDir(dir: string, parent?: string, madeParents: string[] = []): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") break;
      // A cgroup stays busy until the kernel has finished with its exiting tasks (and, on
      // v1, offlined the memory controller's state): on a loaded machine, seconds.
      if (code !== "EBUSY" || attempt > 1000) throw e;
      await Bun.sleep(5);
    }
  }
  if (parent) await removeSharedParent(parent);
  for (const made of [...madeParents].reverse()) {
    try {
      rmdirSync(made);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") break; // still used by another cgroup
    }
  }
}
