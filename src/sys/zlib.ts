// gzip inflation through the system's zlib (libz.so.1: every distribution has it; dpkg
// and rpm depend on it), synchronous and into one output buffer that is used again for
// every call. Why not DecompressionStream: each of its output chunks is a fresh
// allocation (page faults, then the allocator's scavenger handing the pages back), and
// the stream plumbing around it cost a pull more JS time than inflating did. Opened on
// first use; null when the library is missing (callers fall back to the stream).
import { CString, dlopen, FFIType, ptr, type Pointer } from "bun:ffi";

const { i32, ptr: p } = FFIType;

function open() {
  return dlopen("libz.so.1", {
    zlibVersion: { args: [], returns: p },
    inflateInit2_: { args: [p, i32, p, i32], returns: i32 },
    inflate: { args: [p, i32], returns: i32 },
    inflateReset: { args: [p], returns: i32 },
    inflateEnd: { args: [p], returns: i32 },
  }).symbols;
}

let lib: ReturnType<typeof open> | null | undefined;

function zlib(): ReturnType<typeof open> | null {
  if (lib === undefined) {
    try {
      lib = open();
    } catch {
      lib = null;
    }
  }
  return lib;
}

// z_stream on LP64 (zlib.h): the offsets of the fields we touch, and its size.
const NEXT_IN = 0;
const AVAIL_IN = 8;
const NEXT_OUT = 24;
const AVAIL_OUT = 32;
const MSG = 48;
const Z_STREAM_SIZE = 112;

const Z_OK = 0;
const Z_STREAM_END = 1;
const Z_BUF_ERROR = -5;
const Z_NO_FLUSH = 0;
/** windowBits 15 + 16: a gzip wrapper is required (and its CRC and length checked). */
const GZIP_WINDOW = 31;

/** Bytes of inflated output handed on per call. */
const OUT_SIZE = 256 * 1024;

/** The compressed bytes are not valid gzip (or end too soon). */
export class InflateError extends Error {}

/** Inflates one gzip stream (members concatenated are read as one, as gzip does). */
export class GzipInflater {
  /** The z_stream: zlib keeps its address (it checks strm->state->strm), so it is never reallocated. */
  private readonly strm = new Uint8Array(new ArrayBuffer(Z_STREAM_SIZE));
  private readonly view = new DataView(this.strm.buffer);
  private readonly out = new Uint8Array(new ArrayBuffer(OUT_SIZE));
  private readonly outPtr: number;
  private ended = false;
  private closed = false;

  private constructor(private readonly z: NonNullable<ReturnType<typeof open>>) {
    const version = z.zlibVersion();
    const rc = z.inflateInit2_(ptr(this.strm), GZIP_WINDOW, version, Z_STREAM_SIZE);
    if (rc !== Z_OK) throw new Error(`zlib inflateInit2 failed (${rc})`);
    this.outPtr = ptr(this.out);
  }

  /** A new inflater, or null when libz.so.1 cannot be opened. */
  static open(): GzipInflater | null {
    const z = zlib();
    return z ? new GzipInflater(z) : null;
  }

  /**
   * Inflates `input`, handing each piece of output to `sink` before the next is made:
   * the piece is a view of a buffer that the next call overwrites, so `sink` must be
   * done with it (written, hashed, copied) when it returns.
   */
  push(input: Uint8Array, sink: (chunk: Uint8Array) => void): void {
    if (input.length === 0) return;
    if (this.ended) {
      // another gzip member follows (or garbage, which the header check refuses)
      this.z.inflateReset(ptr(this.strm));
      this.ended = false;
    }
    const strm = ptr(this.strm);
    this.view.setBigUint64(NEXT_IN, BigInt(ptr(input)), true);
    this.view.setUint32(AVAIL_IN, input.length, true);
    for (;;) {
      this.view.setBigUint64(NEXT_OUT, BigInt(this.outPtr), true);
      this.view.setUint32(AVAIL_OUT, OUT_SIZE, true);
      const rc = this.z.inflate(strm, Z_NO_FLUSH);
      const produced = OUT_SIZE - this.view.getUint32(AVAIL_OUT, true);
      if (rc !== Z_OK && rc !== Z_STREAM_END && rc !== Z_BUF_ERROR) throw new InflateError(this.message(rc));
      if (produced > 0) sink(this.out.subarray(0, produced));
      const left = this.view.getUint32(AVAIL_IN, true);
      if (rc === Z_STREAM_END) {
        this.ended = true;
        if (left === 0) return;
        this.z.inflateReset(strm); // the rest of the input is a next member
        this.ended = false;
        continue;
      }
      // output not full: all the input it could use is used
      if (produced < OUT_SIZE && (left === 0 || rc === Z_BUF_ERROR)) return;
    }
  }

  /** Throws unless the stream ended where its input did (a truncated gzip stream). */
  finish(): void {
    if (!this.ended) throw new InflateError("unexpected end of file");
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.z.inflateEnd(ptr(this.strm));
  }

  private message(rc: number): string {
    const msg = Number(this.view.getBigUint64(MSG, true));
    return msg !== 0 ? `invalid gzip data (${new CString(msg as Pointer)})` : `invalid gzip data (zlib error ${rc})`;
  }
}
