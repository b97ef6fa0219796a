// The memory mycr's C reads during a native start (spawn-namespaced.ts): the request, the
// steps' blocks and every string they point at, written into a few large buffers whose
// addresses are taken once. Encoding a start used to make three Buffers per string and a
// BigInt per word (~85 steps, ~3.5 ms of a 85 ms `run` on this machine, most of it the
// window's first steps running cold); here a word is two 32-bit stores and a string one
// copy. The arena must stay reachable until the child has exec'd: the C only points at it.
import { ptr } from "bun:ffi";
import { encodeBytes } from "./bytes";

const CHUNK = 16384;
const TWO_32 = 2 ** 32;

/** One int64 the C reads: a number (two's complement, |n| < 2^53) or a bigint (any int64/uint64 bit pattern). */
export type Word = number | bigint;

export class NativeArena {
  /** What the C points into: our buffers, and the arrays handed over whole. */
  private held: unknown[] = [];
  private u8 = new Uint8Array(0);
  private u32 = new Uint32Array(0);
  private i32 = new Int32Array(0);
  private i64 = new BigInt64Array(0);
  private base = 0;
  private used = 0;

  /** Reserves `bytes` (8-byte aligned); returns the buffer's offset. */
  private reserve(bytes: number): number {
    let at = (this.used + 7) & ~7;
    if (at + bytes > this.u8.length) {
      const buf = new ArrayBuffer(Math.max(CHUNK, (bytes + 7) & ~7));
      this.held.push(buf);
      this.u8 = new Uint8Array(buf);
      this.u32 = new Uint32Array(buf);
      this.i32 = new Int32Array(buf);
      this.i64 = new BigInt64Array(buf);
      this.base = ptr(this.u8);
      at = 0;
    }
    this.used = at + bytes;
    return at;
  }

  private put(at: number, w: Word): void {
    if (typeof w === "bigint") {
      this.i64[at >> 3] = BigInt.asIntN(64, w);
      return;
    }
    const hi = Math.floor(w / TWO_32);
    this.u32[at >> 2] = w - hi * TWO_32;
    this.i32[(at >> 2) + 1] = hi;
  }

  /** A NUL-terminated copy of `text`, its bytes exactly (sys/bytes.ts); null is the NULL pointer. */
  str(text: string | null): number {
    if (text === null) return 0;
    const bytes = encodeBytes(text);
    const at = this.reserve(bytes.length + 1);
    this.u8.set(bytes, at);
    this.u8[at + bytes.length] = 0;
    return this.base + at;
  }

  /** int64 words in a row; returns their address. */
  words(values: Word[]): number {
    return this.view(values).address;
  }

  /** int64 words in a row, with a view the caller reads back what the C wrote there. */
  view(values: Word[]): { address: number; words: BigInt64Array } {
    const at = this.reserve(Math.max(values.length, 1) * 8);
    for (let i = 0; i < values.length; i++) this.put(at + i * 8, values[i]!);
    return { address: this.base + at, words: new BigInt64Array(this.i64.buffer, at, values.length) };
  }

  /** uint32s in a row (at least one, so the address is never of nothing). */
  u32s(values: number[]): number {
    const at = this.reserve(Math.max(values.length, 1) * 4);
    for (let i = 0; i < values.length; i++) this.u32[(at >> 2) + i] = values[i]!;
    return this.base + at;
  }

  /** A NULL-terminated char*[] of copies of `items` (argv, envp, a candidate list). */
  strings(items: string[]): number {
    return this.words([...items.map((s) => this.str(s)), 0]);
  }

  /**
   * Lets go of the memory once the child has exec'd (or is gone). Called, not just
   * dropped: the call keeps the arena reachable until that moment, whatever the JIT
   * concludes about the variables that held it.
   */
  release(): void {
    this.held.length = 0;
  }

  /** Whatever else the C reads through a pointer we hand it (a cached seccomp program). */
  hold(bytes: Uint8Array): number {
    this.held.push(bytes);
    return ptr(bytes);
  }
}
