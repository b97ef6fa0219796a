// A small tar writer for the archives `save` writes: regular files and directories whose
// sizes are known before their content streams in. ustar headers; a pax record carries a
// name longer than ustar's 100 bytes. Owner root, mode 0644/0755, mtime 0: the same
// images give the same archive bytes. `entry` writes any member with its own metadata
// (`cp` and `export` of a container's files).
import { writeSync } from "node:fs";
import { ContainerError } from "../runtime/errors";

const BLOCK = 512;

/** What a member's header says besides its name, type and size. */
export interface MemberInfo {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
}

const DEFAULT_INFO: MemberInfo = { mode: 0o644, uid: 0, gid: 0, mtime: 0, linkname: "" };

function header(name: string, flag: string, size: number, info: MemberInfo): Uint8Array {
  const h = Buffer.alloc(BLOCK);
  const put = (off: number, len: number, s: string) => h.write(s, off, len, "utf8");
  const oct = (off: number, len: number, n: number) => put(off, len, n.toString(8).padStart(len - 1, "0") + "\0");
  put(0, 100, name);
  oct(100, 8, info.mode & 0o7777);
  oct(108, 8, info.uid);
  oct(116, 8, info.gid);
  if (size < 8 ** 11) oct(124, 12, size);
  else {
    // GNU base-256 for sizes of 8 GiB and more
    h[124] = 0x80;
    let v = size;
    for (let i = 135; i > 124; i--, v = Math.floor(v / 256)) h[i] = v % 256;
  }
  oct(136, 12, Math.max(0, Math.floor(info.mtime)));
  h.fill(0x20, 148, 156);
  put(156, 1, flag);
  put(157, 100, info.linkname);
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  if (info.uid === 0) put(265, 32, "root");
  if (info.gid === 0) put(297, 32, "root");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Writes a tar stream to a file descriptor (a file being written, or stdout). */
export class TarWriter {
  constructor(private readonly fd: number) {}

  private write(data: Uint8Array): void {
    for (let off = 0; off < data.length; ) off += writeSync(this.fd, data, off);
  }

  private headers(name: string, flag: string, size: number, info: MemberInfo): void {
    const long = Buffer.byteLength(name) > 100;
    const longLink = Buffer.byteLength(info.linkname) > 100;
    if (long || longLink) {
      const pax = Buffer.from((long ? paxRecord("path", name) : "") + (longLink ? paxRecord("linkpath", info.linkname) : ""));
      this.write(header("PaxHeaders/entry", "x", pax.length, DEFAULT_INFO));
      this.write(pax);
      this.pad(pax.length);
      if (long) name = name.slice(0, 99);
      if (longLink) info = { ...info, linkname: info.linkname.slice(0, 99) };
    }
    this.write(header(name, flag, size, info));
  }

  private pad(size: number): void {
    const rest = (BLOCK - (size % BLOCK)) % BLOCK;
    if (rest > 0) this.write(new Uint8Array(rest));
  }

  dir(name: string): void {
    this.headers(name.endsWith("/") ? name : `${name}/`, "5", 0, { ...DEFAULT_INFO, mode: 0o755 });
  }

  /** A member with its own metadata: a directory, symlink or fifo (no content), or a file. */
  async entry(name: string, type: "file" | "dir" | "symlink" | "fifo", info: MemberInfo, size = 0, content: Iterable<Uint8Array> | AsyncIterable<Uint8Array> = []): Promise<void> {
    if (type !== "file") {
      this.headers(type === "dir" && !name.endsWith("/") ? `${name}/` : name, { dir: "5", symlink: "2", fifo: "6" }[type], 0, info);
      return;
    }
    await this.content(name, size, content, info);
  }

  /** A file of exactly `size` bytes; `content` yields them (any chunk sizes). */
  file(name: string, size: number, content: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    return this.content(name, size, content, DEFAULT_INFO);
  }

  private async content(name: string, size: number, content: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, info: MemberInfo): Promise<void> {
    this.headers(name, "0", size, info);
    let written = 0;
    for await (const chunk of content) {
      written += chunk.length;
      if (written > size) throw new ContainerError(`archive member ${name}: more than the ${size} bytes announced`);
      this.write(chunk);
    }
    if (written !== size) throw new ContainerError(`archive member ${name}: ${written} bytes, not the ${size} announced`);
    this.pad(size);
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
