// A small tar writer: the archives `save` writes (regular files and directories, owner
// root, mode 0644/0755, mtime 0: the same images give the same archive bytes) and the
// layers `commit` and `build` write (any entry type with its owner, mode, mtime and
// xattrs). ustar headers; a pax record carries what ustar cannot hold: a name or link
// target longer than 100 bytes, ids past 2097151, xattrs (SCHILY.xattr.*).
import { writeSync } from "node:fs";
import { ContainerError } from "../runtime/errors";

const BLOCK = 512;
const USTAR_ID_MAX = 0o7777777;

export type WriteType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

const FLAGS: Record<WriteType, string> = { file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6" };

/** One entry's header fields; size is the content's for a file, 0 otherwise. */
export interface WriteEntry {
  name: string;
  type: WriteType;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Uint8Array>;
}

function header(e: WriteEntry, flag: string, size: number, names: { user: string; group: string }): Uint8Array {
  const h = Buffer.alloc(BLOCK);
  const put = (off: number, len: number, s: string) => h.write(s, off, len, "utf8");
  const oct = (off: number, len: number, n: number) => put(off, len, n.toString(8).padStart(len - 1, "0") + "\0");
  put(0, 100, e.name);
  oct(100, 8, e.mode & 0o7777);
  oct(108, 8, Math.min(e.uid, USTAR_ID_MAX));
  oct(116, 8, Math.min(e.gid, USTAR_ID_MAX));
  if (size < 8 ** 11) oct(124, 12, size);
  else {
    // GNU base-256 for sizes of 8 GiB and more
    h[124] = 0x80;
    let v = size;
    for (let i = 135; i > 124; i--, v = Math.floor(v / 256)) h[i] = v % 256;
  }
  oct(136, 12, Math.max(0, Math.floor(e.mtime)));
  h.fill(0x20, 148, 156);
  put(156, 1, flag);
  put(157, 100, e.linkname ?? "");
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  put(265, 32, names.user);
  put(297, 32, names.group);
  if (e.type === "char" || e.type === "block") {
    oct(329, 8, e.devmajor ?? 0);
    oct(337, 8, e.devminor ?? 0);
  }
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** `LEN KEY=VALUE\n`, where LEN counts the whole record including its own digits. */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from("\n")]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** The pax records an entry needs (none for most). */
function paxRecords(e: WriteEntry): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (Buffer.byteLength(e.name) > 100) out.push(paxRecord("path", Buffer.from(e.name)));
  if (e.linkname !== undefined && Buffer.byteLength(e.linkname) > 100) out.push(paxRecord("linkpath", Buffer.from(e.linkname)));
  if (e.uid > USTAR_ID_MAX) out.push(paxRecord("uid", Buffer.from(String(e.uid))));
  if (e.gid > USTAR_ID_MAX) out.push(paxRecord("gid", Buffer.from(String(e.gid))));
  for (const [k, v] of e.xattrs ?? []) out.push(paxRecord(`SCHILY.xattr.${k}`, v));
  return out;
}

/** Writes a tar stream to a file descriptor (a file being written, or stdout). */
export class TarWriter {
  constructor(private readonly fd: number) {}

  private write(data: Uint8Array): void {
    for (let off = 0; off < data.length; ) off += writeSync(this.fd, data, off);
  }

  private headers(e: WriteEntry, size: number, names = { user: "", group: "" }): void {
    const pax = paxRecords(e);
    if (pax.length > 0) {
      const body = Buffer.concat(pax);
      this.write(header({ name: "PaxHeaders/entry", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0 }, "x", body.length, names));
      this.write(body);
      this.pad(body.length);
      e = { ...e, name: e.name.slice(0, 99), ...(e.linkname !== undefined ? { linkname: e.linkname.slice(0, 99) } : {}) };
    }
    this.write(header(e, FLAGS[e.type], size, names));
  }

  private pad(size: number): void {
    const rest = (BLOCK - (size % BLOCK)) % BLOCK;
    if (rest > 0) this.write(new Uint8Array(rest));
  }

  private async content(name: string, size: number, content: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    let written = 0;
    for await (const chunk of content) {
      written += chunk.length;
      if (written > size) throw new ContainerError(`archive member ${name}: more than the ${size} bytes announced`);
      this.write(chunk);
    }
    if (written !== size) throw new ContainerError(`archive member ${name}: ${written} bytes, not the ${size} announced`);
    this.pad(size);
  }

  /** Any entry with its own owner, mode and time; a file's `content` yields exactly `size` bytes. */
  async entry(e: WriteEntry, content: Iterable<Uint8Array> | AsyncIterable<Uint8Array> = []): Promise<void> {
    const size = e.type === "file" ? (e.size ?? 0) : 0;
    this.headers(e, size);
    await this.content(e.name, size, content);
  }

  dir(name: string): void {
    this.headers({ name: name.endsWith("/") ? name : `${name}/`, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 0 }, 0, ROOT_NAMES);
  }

  /** A file of exactly `size` bytes, owner root, mode 0644; `content` yields them (any chunk sizes). */
  async file(name: string, size: number, content: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    this.headers({ name, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0 }, size, ROOT_NAMES);
    await this.content(name, size, content);
  }

  bytes(name: string, data: Uint8Array | string): Promise<void> {
    const b = typeof data === "string" ? Buffer.from(data) : data;
    return this.file(name, b.length, [b]);
  }

  /** The end-of-archive marker: two zero blocks. */
  end(): void {
    this.write(new Uint8Array(2 * BLOCK));
  }
}

const ROOT_NAMES = { user: "root", group: "root" };
