// docker cp: files between a running container and the host, or a tar stream (`-`).
// Both ends are read with file-tree.ts and written with the layer unpacker, whose every
// step is confined below its target directory; the container's side is opened below
// its root by container-root.ts. docker's rules for where a copy lands:
//   SRC a file:      DEST a directory -> DEST/NAME; DEST missing or a file -> DEST
//   SRC a directory: DEST a directory -> DEST/NAME; DEST missing -> DEST
//   SRC ending "/.": its content, into DEST (made when missing)
import { basename, dirname, posix } from "node:path";
import { fstatSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { O_NOFOLLOW, SysError, close, fdPath, openPath, withFsIds } from "../sys";
import { readTar, type TarItem } from "../image/tar";
import { unpackLayer } from "../image/unpack";
import { TarWriter } from "../image/tar-writer";
import type { ContainerView } from "./containers";
import { openContainerRoot, openInContainer } from "./container-root";
import { readTree, type TreeOptions } from "./file-tree";
import { shiftOwners, toContainerIds, toHostIds } from "./userns-auto";
import { rangeOfContainer, type IdRange } from "./userns-ranges";

/** One side of a copy: a place inside a container, a host path, or a tar stream. */
export type CopyEnd = { kind: "container"; view: ContainerView; ref: string; path: string } | { kind: "host"; path: string } | { kind: "stream" };

export interface CopyOptions {
  /** -a: keep the files' owners (otherwise root's in a container, the user's on the host). */
  archive?: boolean;
  /** -L: follow a symlink given as the source. */
  followLink?: boolean;
  /** Where `-` reads a tar from and writes one to. */
  stdin?: AsyncIterable<Uint8Array>;
  stdoutFd?: number;
}

/** Opens a container's root (or nothing) for the length of `fn`. */
async function withRoot<T>(end: CopyEnd, fn: (root: number | null) => Promise<T>): Promise<T> {
  const root = end.kind === "container" ? openContainerRoot(end.view, end.ref) : null;
  try {
    return await fn(root);
  } finally {
    if (root !== null) close(root);
  }
}

function open(root: number | null, path: string, follow: boolean): number | null {
  if (root !== null) return openInContainer(root, path, follow);
  try {
    return openPath(path, follow ? 0 : O_NOFOLLOW);
  } catch (e) {
    if (e instanceof SysError && e.code === "ENOENT") return null;
    throw e;
  }
}

/** The id block of a --userns=auto container at this end (none: its ids are the host's). */
function rangeOf(end: CopyEnd): IdRange | undefined {
  return end.kind === "container" ? rangeOfContainer(end.view.id) : undefined;
}

function where(end: CopyEnd, path: string): string {
  return end.kind === "container" ? `${end.ref}:${path}` : path;
}

/** The name the source's top entry has in the copy: "" for "its content" (SRC/. or a root). */
function sourceName(path: string): string {
  const p = posix.normalize(path);
  if (path.endsWith("/.") || p === "/" || p === ".") return "";
  return basename(p);
}

/** Copies `src` to `dest`; at most one of them is a container, at most one a stream. */
export async function copy(src: CopyEnd, dest: CopyEnd, opts: CopyOptions): Promise<void> {
  await withRoot(src, (srcRoot) =>
    withRoot(dest, async (destRoot) => {
      if (src.kind === "stream") {
        const members = readTar(opts.stdin ?? (process.stdin as AsyncIterable<Uint8Array>));
        return writeInto(dest, destRoot, { name: "", isDir: true, stream: true, items: () => members });
      }
      const path = src.path;
      const fd = open(srcRoot, path, opts.followLink === true);
      if (fd === null) throw new ContainerError(`cp: ${where(src, path)}: no such file or directory`);
      try {
        // The owner files get: the destination user's (root in a container, ours on the host), or their own with -a.
        const owner = opts.archive || dest.kind === "stream" ? undefined : dest.kind === "container" ? { uid: 0, gid: 0 } : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
        const tree: TreeOptions = { ...(owner ? { owner } : {}), ...(dest.kind === "host" ? { dropSetId: true } : {}) };
        // Kept owners out of a --userns=auto container are the ones it sees (docker's userns-remap does the same).
        const range = owner ? undefined : rangeOf(src);
        const items = (top: string) => (range ? shiftOwners(readTree(fd, top, tree), toContainerIds(range)) : readTree(fd, top, tree));
        if (dest.kind === "stream") return await writeStream(items(sourceName(path) || "."), opts.stdoutFd ?? 1);
        const isDir = fstatSync(fd).isDirectory();
        return await writeInto(dest, destRoot, { name: sourceName(path), isDir, stream: false, items });
      } finally {
        close(fd);
      }
    }),
  );
}

/** Writes tar items as a tar stream to `fd` (stdout, or a file being written). */
export async function writeStream(items: AsyncIterable<TarItem>, fd: number): Promise<void> {
  const tar = new TarWriter(fd);
  for await (const { entry, content } of items) {
    if (entry.type !== "file" && entry.type !== "dir" && entry.type !== "symlink" && entry.type !== "fifo") continue;
    const name = entry.type === "dir" && !entry.path.endsWith("/") ? `${entry.path}/` : entry.path;
    const { type, mode, uid, gid, mtime, size, linkname } = entry;
    await tar.entry({ name, type, mode, uid, gid, mtime, size: type === "file" ? size : 0, linkname }, content);
  }
  tar.end();
}

/**
 * Writes a source into the destination path by docker's rules. A tar stream's members
 * go into the destination directory as they are named; a tree (its fd) is named after
 * the source, or after the destination when that does not exist yet.
 */
interface Source {
  /** The top entry's own name ("" for "its content"). */
  name: string;
  isDir: boolean;
  /** A tar stream: its members go into the destination as they are named. */
  stream: boolean;
  /** The entries, the top one named `top`. */
  items(top: string): AsyncIterable<TarItem>;
}

async function writeInto(dest: CopyEnd, root: number | null, src: Source): Promise<void> {
  if (dest.kind === "stream") throw new ContainerError("cp: give a container on one side: mycr cp CONTAINER:SRC DEST or mycr cp SRC CONTAINER:DEST");
  const path = dest.path;
  const target = open(root, path, true);
  const isDir = target !== null && fstatSync(target).isDirectory();
  let dirFd = target;
  let top = src.name;
  try {
    if (src.stream) {
      if (!isDir) throw new ContainerError(`cp: ${where(dest, path)}: ${target === null ? "no such directory" : "not a directory"} (a tar stream is unpacked into a directory)`);
    } else if (!isDir) {
      // DEST is the new name: the entry lands in its parent, named after it
      if (target !== null && src.isDir) throw new ContainerError(`cp: cannot copy a directory onto ${where(dest, path)}, which is not a directory`);
      if (path.endsWith("/")) throw new ContainerError(`cp: ${where(dest, path)}: no such directory`);
      if (target !== null) close(target);
      dirFd = open(root, dirname(path), true);
      if (dirFd === null || !fstatSync(dirFd).isDirectory()) throw new ContainerError(`cp: ${where(dest, dirname(path))}: no such directory`);
      top = basename(path);
    }
    const range = rangeOf(dest);
    if (!range) {
      await unpackLayer(src.items(top), fdPath(dirFd!), { whiteouts: false, replaceDirs: false });
    } else {
      // A --userns=auto container's overlay was mounted in its user namespace, where the host's
      // root has no id: a file it created there would fail (EOVERFLOW). The copy is written as
      // the block's root (its file-system ids; capabilities kept), owners shifted into the block.
      const items = shiftOwners(src.items(top), toHostIds(range, `cp: ${where(dest, path)}`));
      await withFsIds(range.start, range.start, () => unpackLayer(items, fdPath(dirFd!), { whiteouts: false, replaceDirs: false }));
    }
  } catch (e) {
    if (e instanceof ContainerError) throw new ContainerError(e.message.replace(/^layer (entry )?/, "cp: "));
    throw e;
  } finally {
    if (dirFd !== null) close(dirFd);
  }
}
