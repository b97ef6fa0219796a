// Writes one layer's tar entries below a fresh directory so that no entry, however
// hostile, reaches outside it: every parent is resolved with openat2(RESOLVE_IN_ROOT)
// (symlinks followed but confined to the layer, `..` stops at its root), the last
// component is created with *at calls that never follow it, `..` in names is refused,
// device nodes are skipped, and overlay's own xattrs can only come from whiteouts.
import { chmodSync, closeSync, fchmodSync, fchownSync, fstatSync, lstatSync, rmSync, writeSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import {
  O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_WRONLY, RESOLVE, S_IFCHR, S_IFIFO,
  SysError, close, fdPath, futimens, lchownat, linkat, lsetxattrAt, lutimensat, mkdirat, mknodat, openPath, openat, openat2,
  symlinkat, unlinkat,
} from "../sys";
import type { TarEntry, TarItem } from "./tar";
import type { TarSink } from "./tar-parser";

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

/** How an unpack differs when it writes into a live (hostile) container rather than a fresh layer. */
export interface UnpackOptions {
  /** `.wh.` names are overlayfs whiteouts (a layer), or plain names (a container's files, `cp`). */
  whiteouts?: boolean;
  /**
   * Whether a directory in the way of a non-directory may be removed. Not in a live
   * container: it could swap a directory for a symlink while the removal walks it.
   */
  replaceDirs?: boolean;
}

/**
 * chmod of the entry `name` itself. fchmodat follows a symlink, and in a live container
 * the entry just created may have been swapped for one: the mode goes to the inode held
 * by an O_NOFOLLOW fd instead (a symlink found there is left alone).
 */
function chmodEntry(parent: number, name: string, mode: number): void {
  const fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  try {
    if (!fstatSync(fd).isSymbolicLink()) chmodSync(fdPath(fd), mode);
  } finally {
    close(fd);
  }
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
  /** The file being written: its content comes through write(), then end(). */
  private file: { fd: number; parent: number; parentParts: string[]; name: string; entry: TarEntry } | undefined;

  /** A new layer (nobody else writes in it), not a live container. */
  private readonly fresh: boolean;

  constructor(
    dir: string,
    private readonly opts: UnpackOptions = {},
  ) {
    this.fresh = opts.replaceDirs !== false;
    this.root = openPath(dir, O_DIRECTORY);
    this.setgidDirs = (fstatSync(this.root).mode & 0o2000) !== 0;
  }

  close(): void {
    if (this.file) closeSync(this.file.fd); // an unpack that failed in the middle of a file
    this.file = undefined;
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
      if (this.opts.replaceDirs === false) throw new ContainerError(`cannot overwrite directory ${quoted(name)} with a non-directory`);
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

  /**
   * Creates a regular file; its content follows (write) and its metadata comes at the
   * end, all through the one fd it was created with.
   */
  private createFile(parent: number, name: string, entry: TarEntry): number {
    // Created with its final permission bits (less the umask) so that, usually, no chmod
    // is needed; setuid/setgid only come after chown, below. Nobody else can reach the
    // file meanwhile: the layer's temp dir is below the store's 0700 layers/.
    return this.create(parent, name, () => openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, entry.mode & 0o777));
  }

  /** Whether what the kernel gives a new file or directory (our ids, the mode less the umask) is the entry's owner and mode. */
  private kernelDefaults(entry: TarEntry): boolean {
    return !this.setgidDirs && entry.uid === this.euid && entry.gid === this.egid && (entry.mode & ~this.umask & 0o777) === entry.mode;
  }

  /** Owner, mode and mtime of a file whose content is written, then its fd closed. */
  private closeFile(fd: number, entry: TarEntry): void {
    try {
      // What the kernel gave the new file (our ids, or the parent's group if it is setgid,
      // the mode less the umask) decides which of chown and chmod are needed at all; when
      // that is known to be the entry's owner and mode (root pulling root's 0644 and 0755
      // files: nearly all), not even fstat is needed.
      // The new file has no setuid/setgid bits, so chown cannot clear any; chmod comes after it.
      if (!this.kernelDefaults(entry)) {
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

  /** Whether a file's content is being written. */
  get writing(): boolean {
    return this.file !== undefined;
  }

  /** An entry from an async reader: begin, content, end. */
  async add({ entry, content }: TarItem): Promise<void> {
    this.begin(entry);
    for await (const chunk of content) this.write(chunk);
    this.end();
  }

  /** Starts an entry: everything but a file's content and closing (write, end). */
  begin(entry: TarEntry): void {
    try {
      this.beginEntry(entry);
    } catch (e) {
      this.endEntry();
      throw e;
    }
  }

  /** A piece of the current file's content (ignored for other entries). */
  write(chunk: Uint8Array): void {
    const file = this.file;
    if (!file) return;
    for (let off = 0; off < chunk.length; ) off += writeSync(file.fd, chunk, off);
    this.stats.bytes += chunk.length;
  }

  /** Ends the current entry: a file's metadata, its fd closed. */
  end(): void {
    const file = this.file;
    try {
      if (file) {
        this.file = undefined;
        this.closeFile(file.fd, file.entry);
        this.finishEntry(file.parent, file.parentParts, file.name, file.entry, false, false);
      }
    } finally {
      this.endEntry();
    }
  }

  private endEntry(): void {
    if (this.stale) this.forgetDirs();
    this.stale = false;
  }

  private beginEntry(entry: TarEntry): void {
    this.stats.entries++;
    const parts = cleanPath(entry.path);
    if (parts.length === 0) return; // the layer root itself: its metadata belongs to the runtime
    const name = parts.at(-1)!;
    if (name.startsWith(WHITEOUT_PREFIX) && this.opts.whiteouts !== false) return this.whiteout(parts, name, entry.path);
    if (entry.type === "char" || entry.type === "block") {
      this.stats.skippedDevices.push(entry.path);
      return;
    }
    const parentParts = parts.slice(0, -1);
    const parent = this.dir(parentParts);
    switch (entry.type) {
      case "dir":
        try {
          // In a fresh layer a directory whose owner and mode the kernel gives by itself
          // needs no chown or chmod (five system calls fewer per directory)
          if (this.fresh && this.kernelDefaults(entry)) {
            mkdirat(parent, name, entry.mode);
            this.finishEntry(parent, parentParts, name, entry, false);
            return;
          }
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
        this.file = { fd: this.createFile(parent, name, entry), parent, parentParts, name, entry };
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
      if (entry.type !== "symlink") chmodEntry(parent, name, entry.mode); // after chown, which clears setuid
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

/** An error of entry `path` as one line naming it. */
function entryError(e: unknown, path: string): Error {
  if (e instanceof ContainerError) return e;
  return new ContainerError(`layer entry ${quoted(path)}: ${(e as Error).message}`);
}

/** Directory times last; an error named. */
function finishLayer(w: LayerWriter): UnpackStats {
  try {
    w.finish();
  } catch (e) {
    throw new ContainerError(`layer: setting directory times: ${(e as Error).message}`);
  }
  return w.stats;
}

/** Unpacks tar items into `dir` (an empty directory the caller owns). */
export async function unpackLayer(items: AsyncIterable<TarItem>, dir: string, opts: UnpackOptions = {}): Promise<UnpackStats> {
  const w = new LayerWriter(dir, opts);
  try {
    for await (const item of items) {
      try {
        await w.add(item);
      } catch (e) {
        throw entryError(e, item.entry.path);
      }
    }
    return finishLayer(w);
  } finally {
    w.close();
  }
}

/**
 * The same unpacking for the push-based reader (tar-parser.ts): entries arrive as calls,
 * content as views valid during the call. `finish()` once the tar ended; `close()` always.
 */
export class LayerSink implements TarSink {
  private readonly w: LayerWriter;
  private path = "";

  constructor(dir: string, opts: UnpackOptions = {}) {
    this.w = new LayerWriter(dir, opts);
  }

  entry(entry: TarEntry): void {
    this.path = entry.path;
    try {
      this.w.begin(entry);
    } catch (e) {
      throw entryError(e, this.path);
    }
  }

  data(chunk: Uint8Array): void {
    try {
      this.w.write(chunk);
    } catch (e) {
      throw entryError(e, this.path);
    }
  }

  end(): void {
    try {
      this.w.end();
    } catch (e) {
      throw entryError(e, this.path);
    }
  }

  /** An error of the stream itself (the decompressor's), named after the file it cut short, if any. */
  named(e: Error): Error {
    return this.w.writing ? entryError(e, this.path) : e;
  }

  finish(): UnpackStats {
    return finishLayer(this.w);
  }

  close(): void {
    this.w.close();
  }
}
