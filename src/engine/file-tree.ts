// Reads a tree of files as tar items (image/tar.ts's shape) from a directory fd, for
// `cp` and `export`. The tree may be a hostile container's: every step is one name
// opened relative to the fd of its parent with O_NOFOLLOW, so a symlink is read as a
// link and never followed, and a file's content is read through the very fd whose
// type and size were checked (reopened by /proc/self/fd), never by its path again.
import { closeSync, fstatSync, lstatSync, openSync, readSync, readdirSync, type Stats } from "node:fs";
import { O_CLOEXEC, O_NOFOLLOW, O_PATH, RESOLVE, SysError, close, fdPath, openat2, readlinkFd } from "../sys";
import type { TarEntry, TarItem } from "../image/tar";

export interface TreeOptions {
  /** Stop at mount points (their directory is listed, empty): `export` is the root filesystem alone. */
  sameMount?: boolean;
  /** Owner every entry gets (docker cp: the destination's user), instead of the file's own. */
  owner?: { uid: number; gid: number };
  /** Drop setuid and setgid bits: a container's file must not become a set-id program on the host. */
  dropSetId?: boolean;
}

const CHUNK = 1 << 20;

function typeOf(st: Stats): TarEntry["type"] | null {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  return null; // devices and sockets: not copied (the runtime makes /dev)
}

/**
 * A file's content, exactly `size` bytes: a file that grows while it is read is cut,
 * one that shrinks is padded with zeros, so the archive stays well-formed whatever the
 * container does meanwhile.
 */
async function* contentOf(pathFd: number, size: number): AsyncGenerator<Uint8Array> {
  const fd = openSync(fdPath(pathFd), "r");
  try {
    let done = 0;
    while (done < size) {
      const buf = Buffer.alloc(Math.min(CHUNK, size - done));
      const n = readSync(fd, buf, 0, buf.length, done);
      if (n === 0) {
        yield Buffer.alloc(size - done);
        return;
      }
      done += n;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

async function* nothing(): AsyncGenerator<Uint8Array> {}

function entryOf(path: string, fd: number, st: Stats, type: TarEntry["type"], opts: TreeOptions): TarEntry {
  return {
    path,
    type,
    mode: st.mode & (opts.dropSetId ? 0o1777 : 0o7777),
    uid: opts.owner?.uid ?? st.uid,
    gid: opts.owner?.gid ?? st.gid,
    size: type === "file" ? st.size : 0,
    mtime: Math.floor(st.mtimeMs / 1000),
    linkname: type === "symlink" ? readlinkFd(fd) : "",
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
  };
}

/**
 * Opens the child `name` of `dirFd` as an O_PATH fd of the entry itself (a symlink is
 * not followed); null at a mount point when sameMount, -1 when it went away meanwhile.
 */
export function openChild(dirFd: number, name: string, opts: TreeOptions): number | null {
  const resolve = RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS | (opts.sameMount ? RESOLVE.NO_XDEV : 0);
  try {
    return openat2(dirFd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, resolve);
  } catch (e) {
    if (e instanceof SysError && e.code === "EXDEV") return null;
    if (e instanceof SysError && e.code === "ENOENT") return -1; // removed while we read its directory
    throw e;
  }
}

/**
 * The names in the directory at `fd` (an O_PATH fd). A directory the container removed
 * after we opened it reads as empty (the kernel answers ENOENT for a deleted directory):
 * it was there when its entry was taken, and is gone now, as a file removed meanwhile is.
 */
function namesIn(fd: number): string[] {
  try {
    return readdirSync(fdPath(fd));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

/**
 * Every entry of the tree at `fd` (an O_PATH fd, not closed here), named below `top`
 * (`top` itself first; "" names the tree's content without a top entry). Parents come
 * before children.
 */
export async function* readTree(fd: number, top: string, opts: TreeOptions = {}): AsyncGenerator<TarItem> {
  const st = fstatSync(fd);
  const type = typeOf(st);
  if (type === null) return;
  if (top !== "") {
    const entry = entryOf(top, fd, st, type, opts);
    yield { entry, content: type === "file" ? contentOf(fd, entry.size) : nothing() };
  }
  if (type !== "dir") return;
  for (const name of namesIn(fd).sort()) {
    const child = openChild(fd, name, opts);
    const path = top === "" ? name : `${top}/${name}`;
    if (child === -1) continue;
    if (child === null) {
      // a mount point (/proc, /sys, a volume, a bind-mounted /etc/hosts): there, empty
      const file = !lstatSync(`${fdPath(fd)}/${name}`, { throwIfNoEntry: false })?.isDirectory();
      const entry = entryOf(path, fd, st, file ? "file" : "dir", opts);
      yield { entry: { ...entry, size: 0, mode: file ? 0o644 : 0o755 }, content: nothing() };
      continue;
    }
    try {
      yield* readTree(child, path, opts);
    } finally {
      close(child);
    }
  }
}

/** Bytes the tree at `fd` (an O_PATH fd) occupies on disk, walked as readTree walks (no link followed). */
export function treeDiskUsage(fd: number): number {
  const st = fstatSync(fd);
  let total = st.blocks * 512;
  if (!st.isDirectory()) return total;
  for (const name of namesIn(fd)) {
    const child = openChild(fd, name, { sameMount: true });
    if (child === null || child === -1) continue;
    try {
      total += treeDiskUsage(child);
    } finally {
      close(child);
    }
  }
  return total;
}
