// A streaming tar reader: ustar, pax extended headers (path, linkpath, size, uid, gid,
// mtime, SCHILY.xattr.*), GNU long names (L/K) and base-256 numbers. It only parses:
// what an entry may do to the disk is decided in unpack.ts.
import { ContainerError } from "../runtime/errors";

export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

export interface TarEntry {
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch; pax mtimes may carry a fraction. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Uint8Array>;
}

export const BLOCK = 512;
const TYPES: Record<string, EntryType> = { "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo" };

/**
 * Reads exact byte counts out of a stream of chunks of any size. A header that straddles
 * two chunks is put together from its two parts alone; the rest of the second chunk waits
 * as it is (copying whole chunks to join them was a tenth of a pull's JS time).
 */
class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  /** The part of the last chunk read that `buf` did not need yet. */
  private rest: Uint8Array | undefined;
  private readonly it: AsyncIterator<Uint8Array>;
  private done = false;

  /** `tap` sees every byte that is not file content (headers, padding, trailer), in order. */
  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly tap?: (raw: Uint8Array) => void,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async nextChunk(): Promise<Uint8Array | null> {
    if (this.rest) {
      const r = this.rest;
      this.rest = undefined;
      return r;
    }
    for (;;) {
      if (this.done) return null;
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return null;
      }
      if (r.value.length > 0) return r.value;
    }
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n) {
      const next = await this.nextChunk();
      if (next === null) return false;
      if (this.buf.length === 0) {
        this.buf = next;
        continue;
      }
      const need = n - this.buf.length;
      if (next.length > need) this.rest = next.subarray(need);
      this.buf = concat(this.buf, next.length > need ? next.subarray(0, need) : next);
    }
    return true;
  }

  /** Exactly n bytes, or null at a clean end of the stream. */
  async exact(n: number): Promise<Uint8Array | null> {
    if (!(await this.fill(n))) {
      if (this.buf.length === 0) return null;
      throw new ContainerError("layer: truncated tar stream");
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.tap?.(out);
    return out;
  }

  /** The next n bytes as they arrive, in chunks. */
  async *chunks(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill(1))) throw new ContainerError("layer: truncated tar stream");
      const take = Math.min(left, this.buf.length);
      yield this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      left -= take;
    }
  }

  /** Skips padding (seen by the tap). */
  async skip(n: number): Promise<void> {
    for await (const chunk of this.chunks(n)) this.tap?.(chunk);
  }

  /** Reads the rest of the stream (a compressor's trailer must reach the hash). */
  async drain(): Promise<void> {
    if (this.buf.length > 0) this.tap?.(this.buf);
    this.buf = new Uint8Array(0);
    for (let c = await this.nextChunk(); c !== null; c = await this.nextChunk()) this.tap?.(c);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const decoder = new TextDecoder();

function str(h: Uint8Array, off: number, len: number): string {
  const field = h.subarray(off, off + len);
  const end = field.indexOf(0);
  return decoder.decode(end >= 0 ? field.subarray(0, end) : field);
}

/** Octal ASCII, or GNU base-256 when the top bit of the first byte is set. */
function num(h: Uint8Array, off: number, len: number, what: string): number {
  if (h[off]! & 0x80) {
    let v = h[off]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + h[off + i]!;
    if (!Number.isSafeInteger(v)) throw new ContainerError(`layer: tar header ${what} too large`);
    return v;
  }
  // Digits between optional spaces, up to the first NUL; read in place (one call per field of every header).
  const end = off + len;
  let i = off;
  while (i < end && h[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < end && h[i]! >= 0x30 && h[i]! <= 0x37; i++, digits++) v = v * 8 + (h[i]! - 0x30);
  while (i < end && h[i] === 0x20) i++;
  if (i < end && h[i] !== 0) {
    const text = str(h, off, len).trim();
    throw new ContainerError(`layer: tar header ${what} ${JSON.stringify(text)} is not an octal number`);
  }
  return digits === 0 ? 0 : v;
}

function isZeroBlock(h: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (h[i] !== 0) return false;
  return true;
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return num(h, 148, 8, "checksum") === sum;
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** `LEN KEY=VALUE\n` records; values stay bytes (xattr values are binary). */
function parsePax(data: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = parseInt(decoder.decode(data.subarray(pos, sp)), 10);
    if (!Number.isInteger(len) || len <= sp - pos || pos + len > data.length) throw new ContainerError("layer: malformed pax header");
    const rec = data.subarray(sp + 1, pos + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new ContainerError("layer: malformed pax record");
    out.set(decoder.decode(rec.subarray(0, eq)), rec.subarray(eq + 1));
    pos += len;
  }
  return out;
}

const MAX_META = 1 << 20; // a pax header or long name larger than 1 MiB is an attack, not a name

export interface TarItem {
  entry: TarEntry;
  /** The file's content; must be read (or left alone: it is skipped) before the next item. */
  content: AsyncGenerator<Uint8Array>;
}

/**
 * What a tar's headers mean, one block at a time: metadata entries (pax, GNU long names)
 * are remembered for the entry that follows them. Shared by the pull-based reader below
 * and the push-based one (tar-parser.ts).
 */
export class HeaderReader {
  private globalPax = new Map<string, Uint8Array>();
  private pax = new Map<string, Uint8Array>();
  private longName: string | undefined;
  private longLink: string | undefined;
  /** The type flag of the last header. */
  private flag = "";

  /**
   * A header block: null at the end of the archive (a zero block), else the size of the
   * data that follows it (before padding) and, unless it is a metadata entry whose data
   * goes to `meta`, the entry.
   */
  header(h: Uint8Array): { entry: TarEntry | null; size: number } | null {
    if (h[0] === 0 && isZeroBlock(h)) return null;
    if (!checksumOk(h)) throw new ContainerError("layer: tar header checksum mismatch (corrupt or not a tar)");
    this.flag = String.fromCharCode(h[156]!);
    const size = num(h, 124, 12, "size");
    if (isMeta(this.flag)) {
      if (size > MAX_META) throw new ContainerError(`layer: tar metadata entry of ${size} bytes`);
      return { entry: null, size };
    }
    const entry = this.entry(h, this.flag, size);
    // Hard links and others may carry a size in the header that is not followed by data.
    return { entry, size: entry.type === "file" ? entry.size : 0 };
  }

  /** The data of the metadata entry whose header came last. */
  meta(body: Uint8Array): void {
    const flag = this.flag;
    if (flag === "x") this.pax = new Map([...this.pax, ...parsePax(body)]);
    else if (flag === "g") this.globalPax = new Map([...this.globalPax, ...parsePax(body)]);
    else if (flag === "L") this.longName = str(body, 0, body.length);
    else this.longLink = str(body, 0, body.length);
  }

  private entry(h: Uint8Array, flag: string, size: number): TarEntry {
    const type = TYPES[flag];
    if (!type) throw new ContainerError(`layer: unsupported tar entry type ${JSON.stringify(flag)} (${JSON.stringify(str(h, 0, 100))})`);
    const magic = str(h, 257, 6);
    const prefix = magic === "ustar" ? str(h, 345, 155) : ""; // GNU ("ustar  ") has no prefix field
    const { globalPax, pax } = this;
    const all = globalPax.size === 0 ? pax : pax.size === 0 ? globalPax : new Map([...globalPax, ...pax]);
    const text = (k: string) => (all.size > 0 && all.has(k) ? decoder.decode(all.get(k)) : undefined);
    const paxNum = (k: string) => {
      const v = text(k);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new ContainerError(`layer: pax ${k} "${v}" is not a number`);
      return n;
    };
    const xattrs = new Map<string, Uint8Array>();
    for (const [k, v] of all) if (k.startsWith("SCHILY.xattr.")) xattrs.set(k.slice("SCHILY.xattr.".length), v);
    const entry: TarEntry = {
      path: text("path") ?? this.longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100)),
      type,
      mode: num(h, 100, 8, "mode") & 0o7777,
      uid: paxNum("uid") ?? num(h, 108, 8, "uid"),
      gid: paxNum("gid") ?? num(h, 116, 8, "gid"),
      size: type === "file" ? (paxNum("size") ?? size) : 0,
      mtime: paxNum("mtime") ?? num(h, 136, 12, "mtime"),
      linkname: text("linkpath") ?? this.longLink ?? str(h, 157, 100),
      devmajor: num(h, 329, 8, "devmajor"),
      devminor: num(h, 337, 8, "devminor"),
      xattrs,
    };
    if (pax.size > 0) this.pax = new Map();
    this.longName = this.longLink = undefined;
    return entry;
  }
}

function isMeta(flag: string): boolean {
  return flag === "x" || flag === "g" || flag === "L" || flag === "K";
}

/**
 * Entries of a tar stream in order. Reads the stream to its end (trailing zero blocks too).
 * `tap`, if given, receives every byte that is not file content, in stream order (tar-split.ts
 * keeps them so a layer's tar can be written again byte for byte).
 */
export async function* readTar(source: AsyncIterable<Uint8Array>, tap?: (raw: Uint8Array) => void): AsyncGenerator<TarItem> {
  const r = new ByteReader(source, tap);
  const headers = new HeaderReader();
  for (;;) {
    const h = await r.exact(BLOCK);
    if (h === null) break;
    const next = headers.header(h);
    if (next === null) break;
    if (next.entry === null) {
      const data = (await r.exact(next.size + padding(next.size))) ?? new Uint8Array(0);
      headers.meta(data.subarray(0, next.size));
      continue;
    }
    const content = r.chunks(next.size);
    yield { entry: next.entry, content };
    for await (const _ of content) {
      // the consumer did not read it all: skip the rest
    }
    await r.skip(padding(next.size));
  }
  await r.drain();
}
