// A container's changes as a layer tar: its overlay upper dir, walked and written in OCI
// form. overlayfs marks a deleted file with a 0:0 character device (-> `.wh.NAME`) and a
// directory that hides what is below it with trusted.overlay.opaque=y (-> the directory,
// then `.wh..wh..opq` in it); its other trusted.overlay.* xattrs are its own bookkeeping
// and stay out of the layer. Owners, modes, mtimes, xattrs and hard links are kept.
// An overlay mounted in a user namespace (--userns=auto) keeps them as user.overlay.*
// instead, and its owners are host ids of the container's block: the caller says so
// (UpperOptions), and the layer gets the ids the container saw.
//
// The upper dir was written by the container, which is hostile and may still run (with
// --pause=false): every entry is reached from an fd of its directory, opened with
// O_NOFOLLOW (a symlink is read as text, never followed), and a file's metadata comes
// from the fd its content is read from, so a swap between looking and reading is seen.
import { closeSync, fstatSync, lstatSync, readSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { ContainerError } from "../runtime/errors";
import {
  O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, SysError, close, fdPath, openat, openPath, xattrsOf,
} from "../sys";
import type { TarWriter, WriteEntry, WriteType } from "./tar-writer";
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from "./unpack";

/** Set by redirect_dir and metacopy: the entry's content or identity lives in a lower layer. */
const LOWER_REFERENCES = ["redirect", "metacopy"];

export interface UpperOptions {
  /** Where overlayfs keeps its own xattrs: "trusted.overlay." (the default), "user.overlay." when mounted with userxattr. */
  xattrPrefix?: string;
  /** The owner a layer gets for an upper dir's owner (default: the same). */
  ownerId?: (id: number) => number;
}
const CHUNK = 1 << 20;

export interface UpperTarStats {
  entries: number;
  /** Sockets (a tar cannot hold them) and names a layer cannot carry (`.wh.*` made by the container). */
  skipped: string[];
}

function typeOf(st: Stats): WriteType | "socket" {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  return "socket";
}

function major(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
}

class UpperWalker {
  readonly stats: UpperTarStats = { entries: 0, skipped: [] };
  /** dev:ino of files with more than one link -> the first name written. */
  private readonly links = new Map<string, string>();

  private readonly prefix: string;
  private readonly id: (id: number) => number;

  constructor(
    private readonly tar: TarWriter,
    private readonly mountPoints: Set<string>,
    opts: UpperOptions,
  ) {
    this.prefix = opts.xattrPrefix ?? "trusted.overlay.";
    this.id = opts.ownerId ?? ((id) => id);
  }

  /** An empty file or directory the runtime made to mount something on: not the container's change. */
  private isMountPoint(where: string, path: string, st: Stats): boolean {
    if (!this.mountPoints.has(path)) return false;
    if (st.isFile()) return st.size === 0;
    return st.isDirectory() && readdirSync(where).length === 0;
  }

  /** The entry's xattrs (from its fd, or its path, not followed), overlayfs's own left out, its lower references refused. */
  private xattrs(target: number | string, shown: string): { kept: Map<string, Uint8Array>; opaque: boolean } {
    const kept = new Map<string, Uint8Array>();
    let opaque = false;
    for (const [key, value] of xattrsOf(target)) {
      const own = key.startsWith(this.prefix) ? key.slice(this.prefix.length) : undefined;
      if (own !== undefined && LOWER_REFERENCES.includes(own)) {
        throw new ContainerError(`${shown}: overlayfs keeps ${key} on it (redirect_dir or metacopy is on): commit cannot read such an upper dir`);
      }
      if (own === "opaque") opaque = new TextDecoder().decode(value) === "y";
      else if (own === undefined) kept.set(key, value);
    }
    return { kept, opaque };
  }

  private base(name: string, st: Stats, type: WriteType, xattrs: Map<string, Uint8Array>): WriteEntry {
    return { name, type, mode: st.mode & 0o7777, uid: this.id(st.uid), gid: this.id(st.gid), mtime: Math.floor(st.mtimeMs / 1000), xattrs };
  }

  /** Writes the directory open as `dirfd` (its own entry written by the caller), then its children. */
  async walk(dirfd: number, prefix: string): Promise<void> {
    let names: string[];
    try {
      names = readdirSync(fdPath(dirfd)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return this.swapped(prefix); // removed while open
      throw e;
    }
    for (const name of names) await this.child(dirfd, name, `${prefix}${name}`);
  }

  private async child(dirfd: number, name: string, path: string): Promise<void> {
    const where = `${fdPath(dirfd)}/${name}`;
    let st: Stats;
    try {
      st = lstatSync(where);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return; // removed while we read (--pause=false)
      throw e;
    }
    const type = typeOf(st);
    if (this.isMountPoint(where, path, st)) return;
    if (type === "char" && st.rdev === 0) {
      await this.tar.entry({ name: `${parentOf(path)}${WHITEOUT_PREFIX}${name}`, type: "file", mode: 0, uid: this.id(st.uid), gid: this.id(st.gid), mtime: Math.floor(st.mtimeMs / 1000) });
      this.stats.entries++;
      return;
    }
    if (name.startsWith(WHITEOUT_PREFIX) || type === "socket") {
      this.stats.skipped.push(path); // a `.wh.` name in a layer would delete, not add
      return;
    }
    this.stats.entries++;
    if (type === "dir") return this.dir(dirfd, name, path);
    if (type === "file") return this.file(dirfd, name, path);
    let entry: WriteEntry;
    try {
      entry = this.base(path, st, type, this.xattrs(where, path).kept);
      if (type === "symlink") entry.linkname = readlinkSync(where);
    } catch (e) {
      const code = e instanceof SysError ? e.code : (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EINVAL") return this.swapped(path); // gone, or no longer a symlink
      throw e;
    }
    if (type === "char" || type === "block") Object.assign(entry, { devmajor: major(st.rdev), devminor: minor(st.rdev) });
    await this.tar.entry(entry);
  }

  private async dir(dirfd: number, name: string, path: string): Promise<void> {
    let fd: number;
    try {
      fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    } catch (e) {
      if (e instanceof SysError && ["ENOENT", "ENOTDIR", "ELOOP"].includes(e.code)) return this.swapped(path);
      throw e;
    }
    try {
      const st = fstatSync(fd);
      const { kept, opaque } = this.xattrs(fd, path);
      await this.tar.entry(this.base(`${path}/`, st, "dir", kept));
      if (opaque) await this.tar.entry({ name: `${path}/${OPAQUE_MARKER}`, type: "file", mode: 0, uid: this.id(st.uid), gid: this.id(st.gid), mtime: Math.floor(st.mtimeMs / 1000) });
      await this.walk(fd, `${path}/`);
    } finally {
      closeSync(fd);
    }
  }

  private async file(dirfd: number, name: string, path: string): Promise<void> {
    let fd: number;
    try {
      // O_NONBLOCK: should a fifo be swapped in, the open must not wait for a writer.
      fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    } catch (e) {
      if (e instanceof SysError && ["ENOENT", "ELOOP"].includes(e.code)) return this.swapped(path);
      throw e;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return this.swapped(path);
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.links.get(key) : undefined;
      if (first !== undefined) {
        await this.tar.entry({ ...this.base(path, st, "hardlink", new Map()), linkname: first });
        return;
      }
      if (st.nlink > 1) this.links.set(key, path);
      await this.tar.entry({ ...this.base(path, st, "file", this.xattrs(fd, path).kept), size: st.size }, content(fd, st.size, path));
    } finally {
      closeSync(fd);
    }
  }

  private swapped(path: string): void {
    throw new ContainerError(`${path}: changed while commit read it (leave --pause on, or stop the container first)`);
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash + 1);
}

/** Exactly `size` bytes of the file, or an error if it shrank meanwhile. */
function* content(fd: number, size: number, path: string): Generator<Uint8Array> {
  const buf = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
  for (let left = size; left > 0; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, left), size - left);
    if (n === 0) throw new ContainerError(`${path}: changed while commit read it (leave --pause on, or stop the container first)`);
    left -= n;
    yield buf.subarray(0, n);
  }
}

/**
 * Writes the changes in the overlay upper dir `upper` as tar entries (the end marker too).
 * `mountPoints` (paths inside, without the leading /) are left out where they are an empty
 * file or directory: the runtime made them to mount /etc/hosts, volumes and the like on.
 */
export async function writeUpperTar(upper: string, tar: TarWriter, mountPoints: Iterable<string> = [], opts: UpperOptions = {}): Promise<UpperTarStats> {
  const root = openPath(upper, O_DIRECTORY);
  try {
    const walker = new UpperWalker(tar, new Set([...mountPoints].map((p) => p.replace(/^\/+|\/+$/g, ""))), opts);
    await walker.walk(root, "");
    tar.end();
    return walker.stats;
  } finally {
    close(root);
  }
}
