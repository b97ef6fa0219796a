// Writes one layer's tar entries below a fresh directory so that no entry, however
// hostile, reaches outside it: every parent is resolved with openat2(RESOLVE_IN_ROOT)
// (symlinks followed but confined to the layer, `..` stops at its root), the last
// component is created with *at calls that never follow it, `..` in names is refused,
// device nodes are skipped, and overlay's own xattrs can only come from whiteouts.
import { closeSync, fchmodSync, fchownSync, fstatSync, lstatSync, rmSync, writeSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import {
  O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_WRONLY, RESOLVE, S_IFCHR, S_IFIFO,
  SysError, close, fchmodat, fdPath, futimens, lchownat, linkat, lsetxattrAt, lutimensat, mkdirat, mknodat, openPath, openat, openat2,
  symlinkat, unlinkat,
} from "../sys";
import type { TarEntry, TarItem } from "./tar";

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_MARKER = ".wh..wh..opq";
const OPAQUE_XATTR = "trusted.overlay.opaque";

export interface UnpackStats {
  entries: number;
  /** Bytes of file content written. */
  bytes: number;
  /** Device nodes left out (an image has no business carrying them; the runtime makes /dev). */
  skippedDevices: string[];
}

/** The entry's path as components below the layer root; `..` anywhere is refused, a leading `/` dropped. */
/** A name from the tar as errors show it: escaped (names may hold newlines) and cut to a sane length. */
function quoted(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

export function cleanPath(raw: string): string[] {
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new ContainerError(`layer entry ${quoted(raw)}: the path leaves the layer (..)`);
  return parts;
}

class LayerWriter {
  private readonly root: number;
  private readonly dirs = new Map<string, number>();
  private readonly dirTimes: { parent: string[]; name: string; mtime: number }[] = [];
  readonly stats: UnpackStats = { entries: 0, bytes: 0, skippedDevices: [] };
  /** Set when cached directory fds may no longer match their paths; dropped after the entry. */
  private stale = false;
  /** What a new file gets from the kernel: our ids and its mode less the umask, unless its directory is setgid. */
  private readonly euid = process.geteuid?.() ?? -1;
  private readonly egid = process.getegid?.() ?? -1;
  private readonly umask = process.umask();
  /** Some directory of the layer may be setgid (then new files take its group): look at each file. */
  private setgidDirs: boolean;

  constructor(dir: string) {
    this.root = openPath(dir, O_DIRECTORY);
    this.setgidDirs = (fstatSync(this.root).mode & 0o2000) !== 0;
  }

  close(): void {
    this.forgetDirs();
    close(this.root);
  }

  private forgetDirs(): void {
    for (const fd of this.dirs.values()) close(fd);
    this.dirs.clear();
  }

  /** An O_PATH fd of the directory `parts` inside the layer, created (0755) where missing. */
  private dir(parts: string[]): number {
    if (parts.length === 0) return this.root;
    const key = parts.join("/");
    const cached = this.dirs.get(key);
    if (cached !== undefined) return cached;
    const flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    const resolve = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS | RESOLVE.NO_XDEV;
    let fd: number;
    try {
      fd = openat2(this.root, key, flags, resolve);
    } catch (e) {
      if (!(e instanceof SysError) || e.code !== "ENOENT") throw e;
      const parent = this.dir(parts.slice(0, -1));
      try {
        mkdirat(parent, parts.at(-1)!, 0o755);
      } catch (e2) {
        // There after all: seen (rarely, under load) when openat2 said ENOENT for a
        // directory that existed; the open below decides, and fails if it is not one.
        if (!(e2 instanceof SysError) || e2.code !== "EEXIST") throw e2;
      }
      fd = openat2(this.root, key, flags, resolve);
    }
    this.dirs.set(key, fd);
    return fd;
  }

  /** Removes whatever is at `name` unless it is a directory and a directory is wanted. */
  private clear(parent: number, name: string, keepDir: boolean): void {
    let st;
    try {
      st = lstatSync(`${fdPath(parent)}/${name}`);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      if (keepDir) return;
      this.stale = true; // cached fds below it would point at a removed tree
      rmSync(`${fdPath(parent)}/${name}`, { recursive: true, force: true });
    } else {
      unlinkat(parent, name);
    }
  }

  /**
   * Runs `create` (an *at call that fails with EEXIST rather than follow or overwrite);
   * if the name is taken, removes what is there and tries once more. Most names are new
   * in a layer: looking first would cost a failed lstat for nearly every entry.
   */
  private create<T>(parent: number, name: string, create: () => T): T {
    try {
      return create();
    } catch (e) {
      if (!(e instanceof SysError) || e.code !== "EEXIST") throw e;
    }
    this.clear(parent, name, false);
    return create();
  }

  /** A regular file with its content and metadata, all through the one fd it was created with. */
  private async writeFile(parent: number, name: string, entry: TarEntry, content: AsyncIterable<Uint8Array>): Promise<void> {
    // Created with its final permission bits (less the umask) so that, usually, no chmod
    // is needed; setuid/setgid only come after chown, below. Nobody else can reach the
    // file meanwhile: the layer's temp dir is below the store's 0700 layers/.
    const fd = this.create(parent, name, () => openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, entry.mode & 0o777));
    try {
      for await (const chunk of content) {
        for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
        this.stats.bytes += chunk.length;
      }
      // What the kernel gave the new file (our ids, or the parent's group if it is setgid,
      // the mode less the umask) decides which of chown and chmod are needed at all; when
      // that is known to be the entry's owner and mode (root pulling root's 0644 and 0755
      // files: nearly all), not even fstat is needed.
      // The new file has no setuid/setgid bits, so chown cannot clear any; chmod comes after it.
      const known = !this.setgidDirs && entry.uid === this.euid && entry.gid === this.egid && (entry.mode & ~this.umask & 0o777) === entry.mode;
      if (!known) {
        const st = fstatSync(fd);
        if (st.uid !== entry.uid || st.gid !== entry.gid) fchownSync(fd, entry.uid, entry.gid);
        if ((st.mode & 0o7777) !== entry.mode) fchmodSync(fd, entry.mode);
      }
      // after the last write (owner, mode and xattrs leave the mtime alone), through the fd
      futimens(fd, Math.floor(entry.mtime), Math.round((entry.mtime % 1) * 1e9));
    } finally {
      closeSync(fd);
    }
  }

  private whiteout(parts: string[], base: string, raw: string): void {
    const parent = this.dir(parts.slice(0, -1));
    if (base === OPAQUE_MARKER) {
      lsetxattrAt(parent, "", OPAQUE_XATTR, new TextEncoder().encode("y"));
      return;
    }
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === "" || name === "." || name === "..") throw new ContainerError(`layer entry ${quoted(raw)}: not a valid whiteout`);
    this.clear(parent, name, false);
    mknodat(parent, name, S_IFCHR, 0, 0); // overlayfs's whiteout: a 0:0 character device
  }

  async add(item: TarItem): Promise<void> {
    try {
      await this.addEntry(item);
    } finally {
      if (this.stale) this.forgetDirs();
      this.stale = false;
    }
  }

  private async addEntry({ entry, content }: TarItem): Promise<void> {
    this.stats.entries++;
    const parts = cleanPath(entry.path);
    if (parts.length === 0) return; // the layer root itself: its metadata belongs to the runtime
    const name = parts.at(-1)!;
    if (name.startsWith(WHITEOUT_PREFIX)) return this.whiteout(parts, name, entry.path);
    if (entry.type === "char" || entry.type === "block") {
      this.stats.skippedDevices.push(entry.path);
      return;
    }
    const parentParts = parts.slice(0, -1);
    const parent = this.dir(parentParts);
    switch (entry.type) {
      case "dir":
        try {
          mkdirat(parent, name, 0o700);
        } catch (e) {
          if (!(e instanceof SysError) || e.code !== "EEXIST") throw e;
          this.clear(parent, name, true); // a directory stays (its content too); anything else goes
          try {
            mkdirat(parent, name, 0o700);
          } catch (e2) {
            if (!(e2 instanceof SysError) || e2.code !== "EEXIST") throw e2;
          }
        }
        break;
      case "file":
        await this.writeFile(parent, name, entry, content);
        this.finishEntry(parent, parentParts, name, entry, false, false);
        return;
      case "symlink":
        // The target is only text here; it is never followed while the layer is written.
        this.create(parent, name, () => symlinkat(entry.linkname, parent, name));
        this.stale = true; // a directory path may now resolve through this link
        break;
      case "hardlink": {
        const target = cleanPath(entry.linkname);
        if (target.length === 0) throw new ContainerError(`layer entry ${quoted(entry.path)}: hard link to the layer root`);
        const targetParent = this.dir(target.slice(0, -1));
        try {
          this.create(parent, name, () => linkat(targetParent, target.at(-1)!, parent, name));
        } catch (e) {
          if (e instanceof SysError && e.code === "ENOENT") {
            throw new ContainerError(`layer entry ${quoted(entry.path)}: hard link to ${quoted(entry.linkname)}, which is not in this layer`);
          }
          throw e;
        }
        return; // the link shares the target's inode and metadata
      }
      case "fifo":
        this.create(parent, name, () => mknodat(parent, name, S_IFIFO | 0o600));
        break;
    }
    this.finishEntry(parent, parentParts, name, entry, true);
  }

  /** Owner, mode and times (unless a file already did them), and xattrs of the entry just created. */
  private finishEntry(parent: number, parentParts: string[], name: string, entry: TarEntry, ownerAndMode: boolean, times = true): void {
    if (ownerAndMode) {
      lchownat(parent, name, entry.uid, entry.gid);
      if (entry.type !== "symlink") fchmodat(parent, name, entry.mode); // after chown, which clears setuid
      if (entry.type === "dir" && (entry.mode & 0o2000) !== 0) this.setgidDirs = true; // files below take its group
    }
    for (const [key, value] of entry.xattrs) {
      if (key.startsWith("trusted.overlay.")) continue; // only whiteouts may speak to overlayfs
      lsetxattrAt(parent, name, key, value);
    }
    if (entry.type === "dir") this.dirTimes.push({ parent: parentParts, name, mtime: entry.mtime });
    else if (times) lutimensat(parent, name, Math.floor(entry.mtime), Math.round((entry.mtime % 1) * 1e9));
  }

  /** Directory mtimes last: creating their children changed them. */
  finish(): void {
    for (const d of this.dirTimes) {
      try {
        lutimensat(this.dir(d.parent), d.name, Math.floor(d.mtime), Math.round((d.mtime % 1) * 1e9));
      } catch (e) {
        // a later entry replaced the directory (or a parent) with something else: nothing to date
        if (!(e instanceof SysError) || (e.code !== "ENOENT" && e.code !== "ENOTDIR")) throw e;
      }
    }
  }
}

/** Unpacks tar items into `dir` (an empty directory the caller owns). */
export async function unpackLayer(items: AsyncIterable<TarItem>, dir: string): Promise<UnpackStats> {
  const w = new LayerWriter(dir);
  try {
    for await (const item of items) {
      try {
        await w.add(item);
      } catch (e) {
        if (e instanceof ContainerError) throw e;
        throw new ContainerError(`layer entry ${quoted(item.entry.path)}: ${(e as Error).message}`);
      }
    }
    try {
      w.finish();
    } catch (e) {
      throw new ContainerError(`layer: setting directory times: ${(e as Error).message}`);
    }
    return w.stats;
  } finally {
    w.close();
  }
}
