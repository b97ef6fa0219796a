// gzip inflation, synchronous and into one output buffer that is used again for every
// call, through the zlib handle behind node:zlib (Bun's own zlib: twice as fast here as
// the system's libz, and nothing to load). Why not DecompressionStream: each of its output
// chunks is a fresh allocation (page faults, then the allocator's scavenger handing the
// pages back), and the stream plumbing around it cost a pull more JS time than inflating
// did. The handle's writeSync is what node:zlib's own sync functions call (Node's and
// Bun's alike); should a Bun release lack it, open() says so and callers fall back to
// the stream.
import { createGunzip } from "node:zlib";

/** The native handle node:zlib streams drive (lib/zlib.js). */
interface ZlibHandle {
  /** Inflates in[inOff, inOff+inLen) into out[outOff, outOff+outLen); leaves [availOut, availIn] in the write state. */
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  /** Called (synchronously, from writeSync) with zlib's message when the data is wrong. */
  onerror: (message: string, errno: number) => void;
}

interface GunzipInternals {
  _handle?: ZlibHandle;
  _writeState?: Uint32Array;
  close(): void;
}

const Z_NO_FLUSH = 0;
const Z_FINISH = 4;

/** Bytes of inflated output handed on per call. */
const OUT_SIZE = 256 * 1024;

/** The compressed bytes are not valid gzip (or end too soon). */
export class InflateError extends Error {}

/** Inflates one gzip stream (members concatenated are read as one, as gzip does). */
export class GzipInflater {
  private readonly out = new Uint8Array(OUT_SIZE);
  private error: string | undefined;

  private constructor(
    private readonly stream: GunzipInternals,
    private readonly handle: ZlibHandle,
    private readonly state: Uint32Array,
  ) {
    handle.onerror = (message) => {
      this.error = message;
    };
  }

  /** A new inflater, or null when this runtime's node:zlib has no handle to drive. */
  static open(): GzipInflater | null {
    const stream = createGunzip() as unknown as GunzipInternals;
    const handle = stream._handle;
    if (typeof handle?.writeSync !== "function" || !(stream._writeState instanceof Uint32Array)) {
      stream.close();
      return null;
    }
    return new GzipInflater(stream, handle, stream._writeState);
  }

  /**
   * Inflates `input`, handing each piece of output to `sink` before the next is made:
   * the piece is a view of a buffer that the next call overwrites, so `sink` must be
   * done with it (written, hashed, copied) when it returns.
   */
  push(input: Uint8Array, sink: (chunk: Uint8Array) => void): void {
    if (input.length > 0) this.run(Z_NO_FLUSH, input, sink);
  }

  /** At the end of the input: throws unless the stream ended there ("unexpected end of file"). */
  finish(sink: (chunk: Uint8Array) => void): void {
    this.run(Z_FINISH, new Uint8Array(0), sink);
  }

  close(): void {
    this.stream.close();
  }

  private run(flush: number, input: Uint8Array, sink: (chunk: Uint8Array) => void): void {
    let off = 0;
    let left = input.length;
    for (;;) {
      this.handle.writeSync(flush, input, off, left, this.out, 0, OUT_SIZE);
      if (this.error !== undefined) throw new InflateError(this.error);
      const availOut = this.state[0]!;
      const availIn = this.state[1]!;
      if (availOut < OUT_SIZE) sink(this.out.subarray(0, OUT_SIZE - availOut));
      off += left - availIn;
      left = availIn;
      // room left in the output: all the input it could use is used
      if (availOut !== 0) return;
    }
  }
}
