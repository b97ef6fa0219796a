// Tar-split: what it takes to write a layer's tar again byte for byte from its unpacked
// directory. The store keeps layers unpacked only, but `save` must produce tars whose
// sha256 is the config's diff id; no tar writer can guess the original's entry order,
// header formats, pax records and padding. So while a layer is unpacked, every byte that
// is not file content is kept (headers, pax records, padding, the trailer), and file
// content is kept as a reference to the unpacked file (containers/storage does the same).
//
// File `layers/CHAIN/tar-split`: MAGIC, then frames [u32 LE length][zstd frame], each
// holding whole records [u8 kind][u32 LE length][payload]: kind RAW = bytes as they were;
// kind FILE = [f64 LE size][path as written in the tar].
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { O_CLOEXEC, O_NOFOLLOW, O_RDONLY, RESOLVE, SysError, close, openPath, openat2, O_DIRECTORY } from "../sys";
import type { TarEntry, TarItem } from "./tar";
import { cleanPath } from "./unpack";

export const TAR_SPLIT = "tar-split";
const MAGIC = new TextEncoder().encode("mycr-tar-split-1\n");
const RAW = 0;
const FILE = 1;
/** Records are compressed in frames of about this much. */
const FRAME = 1 << 20;

/**
 * Records a tar stream's skeleton while it is unpacked: pass `tap` to the tar reader and
 * call `file` for each file's content (or wrap the async reader's items). Records are
 * put together in one frame buffer, used again for every frame.
 */
export class TarSplitWriter {
  private readonly fd: number;
  private frame = new Uint8Array(FRAME + (FRAME >> 2));
  private frameLength = 0;
  /** Where the open RAW record's header is in the frame (its length is set when it closes), or -1. */
  private rawAt = -1;
  private closed = false;

  constructor(path: string) {
    this.fd = openSync(path, "wx", 0o600);
    writeAll(this.fd, MAGIC);
  }

  readonly tap = (raw: Uint8Array): void => {
    if (this.rawAt < 0) {
      this.room(5);
      this.rawAt = this.frameLength;
      this.frame[this.frameLength] = RAW;
      this.frameLength += 5;
    }
    this.room(raw.length);
    this.frame.set(raw, this.frameLength);
    this.frameLength += raw.length;
    if (this.frameLength >= FRAME) this.flushFrame();
  };

  /** A file's content stands here in the stream. */
  file(entry: TarEntry): void {
    if (entry.type !== "file" || entry.size === 0) return;
    this.closeRaw();
    const path = encoder.encode(entry.path);
    this.room(5 + 8 + path.length);
    const view = new DataView(this.frame.buffer, this.frameLength);
    view.setUint8(0, FILE);
    view.setUint32(1, 8 + path.length, true);
    view.setFloat64(5, entry.size, true);
    this.frame.set(path, this.frameLength + 13);
    this.frameLength += 13 + path.length;
    if (this.frameLength >= FRAME) this.flushFrame();
  }

  /** Passes the async reader's items through, noting where file content stands in the stream. */
  async *items(source: AsyncIterable<TarItem>): AsyncGenerator<TarItem> {
    for await (const item of source) {
      this.file(item.entry);
      yield item;
    }
  }

  /** Room for `n` more bytes in the frame. */
  private room(n: number): void {
    if (this.frameLength + n <= this.frame.length) return;
    const bigger = new Uint8Array(Math.max(this.frame.length * 2, this.frameLength + n));
    bigger.set(this.frame.subarray(0, this.frameLength));
    this.frame = bigger;
  }

  private closeRaw(): void {
    if (this.rawAt < 0) return;
    new DataView(this.frame.buffer, this.rawAt + 1, 4).setUint32(0, this.frameLength - this.rawAt - 5, true);
    this.rawAt = -1;
  }

  private flushFrame(): void {
    this.closeRaw();
    if (this.frameLength === 0) return;
    // level 1: the skeleton is headers and zero padding, which compress as well at either level
    const frame = Bun.zstdCompressSync(this.frame.subarray(0, this.frameLength), { level: 1 });
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, frame.length, true);
    writeAll(this.fd, len);
    writeAll(this.fd, frame);
    this.frameLength = 0;
  }

  /** Writes what is left (the trailer is seen only once the tar reader has finished). */
  finish(): void {
    this.flushFrame();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

const encoder = new TextEncoder();

function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
}

type SplitRecord = { kind: "raw"; data: Uint8Array } | { kind: "file"; size: number; path: string };

/** The records of a tar-split file, one frame in memory at a time. */
function* records(splitPath: string): Generator<SplitRecord> {
  const fd = openSync(splitPath, "r");
  try {
    let pos = 0;
    const read = (n: number): Buffer | null => {
      const buf = Buffer.alloc(n);
      let got = 0;
      while (got < n) {
        const r = readSync(fd, buf, got, n - got, pos + got);
        if (r === 0) break;
        got += r;
      }
      if (got === 0 && n > 0) return null;
      if (got < n) throw new ContainerError(`${splitPath}: truncated`);
      pos += n;
      return buf;
    };
    const magic = read(MAGIC.length);
    if (!magic || !magic.equals(MAGIC)) throw new ContainerError(`${splitPath}: not a mycr tar-split file`);
    for (;;) {
      const len = read(4);
      if (!len) return;
      const frame = Buffer.from(Bun.zstdDecompressSync(read(len.readUInt32LE(0))!));
      for (let off = 0; off < frame.length; ) {
        const kind = frame[off]!;
        const n = frame.readUInt32LE(off + 1);
        const payload = frame.subarray(off + 5, off + 5 + n);
        off += 5 + n;
        if (kind === RAW) yield { kind: "raw", data: payload };
        else yield { kind: "file", size: payload.readDoubleLE(0), path: new TextDecoder().decode(payload.subarray(8)) };
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** The size of the tar a split describes (without reading any file). */
export function splitTarSize(splitPath: string): number {
  let size = 0;
  for (const r of records(splitPath)) size += r.kind === "raw" ? r.data.length : r.size;
  return size;
}

const CHUNK = 1 << 20;

/**
 * The layer's tar again: raw records as they were, file content read from the unpacked
 * directory `diff` (resolved inside it, as unpack wrote it). The caller verifies the
 * digest; a file whose size changed is reported here.
 */
export function* assembleTar(splitPath: string, diff: string): Generator<Uint8Array> {
  const root = openPath(diff, O_DIRECTORY);
  try {
    for (const r of records(splitPath)) {
      if (r.kind === "raw") {
        yield r.data;
        continue;
      }
      let fd: number;
      try {
        fd = openat2(root, cleanPath(r.path).join("/"), O_RDONLY | O_NOFOLLOW | O_CLOEXEC, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS | RESOLVE.NO_XDEV);
      } catch (e) {
        throw new ContainerError(`${diff}: cannot read "${r.path}" again (${e instanceof SysError ? e.code : (e as Error).message})`);
      }
      try {
        let left = r.size;
        while (left > 0) {
          const buf = Buffer.alloc(Math.min(CHUNK, left));
          const n = readSync(fd, buf, 0, buf.length, null);
          if (n === 0) throw new ContainerError(`${diff}: "${r.path}" is shorter than when it was unpacked`);
          left -= n;
          yield n === buf.length ? buf : buf.subarray(0, n);
        }
      } finally {
        close(fd);
      }
    }
  } finally {
    close(root);
  }
}
