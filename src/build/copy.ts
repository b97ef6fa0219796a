// COPY and ADD as a layer: the files they put into the image, planned first (so the
// cache key can hash exactly what will be written), then written as tar entries. The
// directories on the way to the destination are written with the metadata they already
// have in the image (a COPY into /tmp must not make /tmp 0755), and the destination is
// found through the image's own symlinks (layered-fs.ts), never the host's.
import { closeSync, openSync, readSync, readlinkSync, type Stats } from "node:fs";
import { basename, posix } from "node:path";
import { O_CLOEXEC, O_NOFOLLOW, O_RDONLY } from "../sys";
import type { LayeredFs } from "../image/layered-fs";
import type { TarWriter, WriteEntry, WriteType } from "../image/tar-writer";
import { readTar } from "../image/tar";
import { decompressed } from "../image/unpack-stream";
import { cleanPath } from "../image/unpack";
import { BuildError } from "./dockerfile";

/** One file, directory or link to write at `dest` (absolute, in the image). */
export interface CopyItem {
  dest: string;
  type: WriteType;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname?: string;
  /** Host path of a file's content (a context file, or a file in another stage's layer). */
  from?: string;
  /** Or its bytes (an archive member). */
  data?: Uint8Array;
}

export interface Owner {
  uid: number;
  gid: number;
}

/** An item for a host entry; the owner is `owner` when given, else the entry's own. */
export function itemFor(dest: string, host: string, st: Stats, owner: Owner | undefined, chmod: number | undefined): CopyItem | null {
  const type: WriteType | null = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : st.isFIFO() ? "fifo" : null;
  if (type === null) return null; // sockets and devices are not copied
  return {
    dest,
    type,
    mode: chmod !== undefined && type !== "symlink" ? chmod : st.mode & 0o7777,
    uid: owner?.uid ?? st.uid,
    gid: owner?.gid ?? st.gid,
    mtime: Math.floor(st.mtimeMs / 1000),
    size: type === "file" ? st.size : 0,
    ...(type === "symlink" ? { linkname: readlinkSync(host) } : {}),
    ...(type === "file" ? { from: host } : {}),
  };
}

/** Where a source lands: into the destination directory, or as the destination itself. */
export function destFor(dest: string, intoDir: boolean, source: string): string {
  return intoDir ? posix.join(dest, basename(source)) : dest;
}

/** The members of a tar archive (plain, gzip or zstd) as items below `dest`. */
export async function archiveItems(host: string, dest: string, owner: Owner | undefined): Promise<CopyItem[]> {
  const head = new Uint8Array(6);
  const fd = openSync(host, "r");
  try {
    readSync(fd, head, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) throw new BuildError(`${basename(host)}: bzip2 archives are not supported by ADD here (gzip, zstd and plain tar are)`);
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a) throw new BuildError(`${basename(host)}: xz archives are not supported by ADD here (gzip, zstd and plain tar are)`);
  const { tar } = await decompressed(Bun.file(host).stream());
  const out: CopyItem[] = [];
  for await (const { entry, content } of readTar(tar)) {
    const parts = cleanPath(entry.path);
    if (parts.length === 0) continue;
    const at = posix.join(dest, ...parts);
    if (entry.type === "char" || entry.type === "block") continue;
    let data: Uint8Array | undefined;
    if (entry.type === "file") {
      const chunks: Uint8Array[] = [];
      for await (const chunk of content) chunks.push(chunk.slice());
      data = new Uint8Array(Buffer.concat(chunks));
    }
    out.push({
      dest: at,
      type: entry.type,
      mode: entry.mode,
      uid: owner?.uid ?? entry.uid,
      gid: owner?.gid ?? entry.gid,
      mtime: Math.floor(entry.mtime),
      size: data?.length ?? 0,
      ...(entry.type === "hardlink" ? { linkname: posix.join(dest, ...cleanPath(entry.linkname)).slice(1) } : {}),
      ...(entry.type === "symlink" ? { linkname: entry.linkname } : {}),
      ...(data ? { data } : {}),
    });
  }
  return out;
}

/** Is `path` an archive ADD unpacks (a tar, compressed or not)? */
export function isArchive(host: string): boolean {
  const head = new Uint8Array(512);
  let n = 0;
  const fd = openSync(host, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  try {
    n = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true; // gzip
  if (n >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return true; // zstd
  if (n >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return true; // bzip2 (refused when read)
  if (n >= 6 && head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58) return true; // xz (refused when read)
  return n >= 262 && new TextDecoder().decode(head.subarray(257, 262)) === "ustar";
}

/** The content hash of a plan: what the cache key of a COPY/ADD step includes. */
export function planDigest(items: CopyItem[]): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const i of items) {
    h.update(`${i.dest}\0${i.type}\0${i.mode}\0${i.uid}:${i.gid}\0${i.size}\0${i.linkname ?? ""}\0`);
    if (i.data) h.update(i.data);
    else if (i.from !== undefined && i.type === "file") h.update(readAll(i.from));
  }
  return `sha256:${h.digest("hex")}`;
}

function readAll(path: string): Uint8Array {
  const fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  try {
    const { size } = Bun.file(path);
    const buf = new Uint8Array(size);
    for (let off = 0; off < size; ) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the plan as a layer: first the directories on the way to each item that the
 * image already has (with their metadata) or that are new (0755, owned by `newDirs`:
 * --chown's owner, as podman makes them), then the items.
 */
export async function writeCopyLayer(tar: TarWriter, items: CopyItem[], image: LayeredFs, newDirs: Owner = { uid: 0, gid: 0 }): Promise<void> {
  const written = new Set<string>();
  const parents = (dest: string) => {
    const parts = dest.split("/").filter((p) => p !== "");
    const out: string[] = [];
    for (let n = 1; n < parts.length; n++) out.push(`/${parts.slice(0, n).join("/")}`);
    return out;
  };
  for (const item of items) {
    for (const dir of parents(item.dest)) {
      if (written.has(dir)) continue;
      written.add(dir);
      const found = image.lookup(dir, false);
      const st = found?.stat.isDirectory() ? found.stat : undefined;
      const mtime = Math.floor((st?.mtimeMs ?? Date.now()) / 1000);
      await tar.entry({ name: `${dir.slice(1)}/`, type: "dir", mode: st ? st.mode & 0o7777 : 0o755, uid: st?.uid ?? newDirs.uid, gid: st?.gid ?? newDirs.gid, mtime });
    }
    if (written.has(item.dest)) continue;
    written.add(item.dest);
    const entry: WriteEntry = { name: item.type === "dir" ? `${item.dest.slice(1)}/` : item.dest.slice(1), type: item.type, mode: item.mode, uid: item.uid, gid: item.gid, mtime: item.mtime };
    if (item.linkname !== undefined) entry.linkname = item.linkname;
    if (item.type !== "file") {
      await tar.entry(entry);
      continue;
    }
    const content = item.data ?? readAll(item.from!);
    await tar.entry({ ...entry, size: content.length }, [content]);
  }
  tar.end();
}
