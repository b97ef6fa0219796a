// --userns=auto: each container gets its own block of 65536 host ids for its 0..65535.
// The pool starts at 2^31, far above what /etc/subuid hands out (useradd starts at
// 100000 and grows by 65536 per user) and above the ids any distribution gives real
// users, so a remapped container's root owns nothing on the host but its own files.
// A block is claimed by creating MYCR_ROOT/userns/<block> with O_EXCL (the kernel makes
// the claim atomic across concurrent runs); the file holds the container's id. It goes
// with the container's files (rootfs.ts removeContainerFiles: foreground end, rm, gc).
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { containerDir, dataRoot } from "./paths";

export const RANGE_SIZE = 65536;
const POOL_START = 2 ** 31;
/** Blocks up to 2^32 - 65536: the last id of the last block is 2^32 - 2, (uid_t)-1 stays out. */
const POOL_BLOCKS = (2 ** 32 - POOL_START) / RANGE_SIZE - 1;

export interface IdRange {
  block: number;
  /** Host id of the container's 0. */
  start: number;
}

export function rangesDir(root = dataRoot()): string {
  return join(root, "userns");
}

const rangeOf = (block: number): IdRange => ({ block, start: POOL_START + block * RANGE_SIZE });

/** Claims the first free block for container `id`; a container started again keeps its own. */
export function allocateRange(id: string, root = dataRoot()): IdRange {
  const dir = rangesDir(root);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const own = rangeOfContainer(id, root);
  if (own) return own;
  const taken = new Set(readdirSync(dir).map(Number));
  for (let block = 0; block < POOL_BLOCKS; block++) {
    if (taken.has(block)) continue;
    let fd: number;
    try {
      fd = openSync(join(dir, String(block)), "wx", 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") continue; // another run took it meanwhile
      throw e;
    }
    try {
      writeSync(fd, id);
    } finally {
      closeSync(fd);
    }
    return rangeOf(block);
  }
  throw new ContainerError(`--userns=auto: all ${POOL_BLOCKS} id ranges are in use; remove containers (mycr rm, mycr gc)`);
}

/** Blocks and the container each belongs to. */
export function allocatedRanges(root = dataRoot()): { block: number; owner: string }[] {
  const dir = rangesDir(root);
  if (!existsSync(dir)) return [];
  const out: { block: number; owner: string }[] = [];
  for (const name of readdirSync(dir)) {
    try {
      out.push({ block: Number(name), owner: readFileSync(join(dir, name), "utf8") });
    } catch {
      // released meanwhile
    }
  }
  return out;
}

/** The block container `id` holds (none: it does not run with --userns=auto). */
export function rangeOfContainer(id: string, root = dataRoot()): IdRange | undefined {
  const own = allocatedRanges(root).find((r) => r.owner === id);
  return own ? rangeOf(own.block) : undefined;
}

/** Frees the block of the container whose directory is `containerDir` (none: nothing to do). */
export function releaseRange(containerDir: string): void {
  const id = basename(containerDir);
  const root = join(containerDir, "..", "..");
  for (const r of allocatedRanges(root)) if (r.owner === id) unlinkSync(join(rangesDir(root), String(r.block)));
}

/**
 * gc: blocks whose container has no directory (its run was killed between the claim and
 * the record, or its files went without them). The claim is made before the record, so
 * a block is only an orphan once its claim is older than a run's start (`graceMs`).
 */
export function releaseOrphanRanges(root = dataRoot(), graceMs = 10_000): void {
  for (const r of allocatedRanges(root)) {
    if (existsSync(containerDir(r.owner, root))) continue;
    const file = join(rangesDir(root), String(r.block));
    try {
      if (Date.now() - statSync(file).mtimeMs < graceMs) continue;
      unlinkSync(file);
    } catch {
      // released meanwhile
    }
  }
}
