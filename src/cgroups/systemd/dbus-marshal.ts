// D-Bus wire format (little-endian), driven by signatures: JS values in, bytes out, and
// back. Only what talking to systemd needs: basic types, arrays, structs, dict entries,
// variants. Values: s/o/g strings; y/n/q/i/u numbers; x/t bigint (or number); b
// boolean; a arrays (a{kv} as [k, v] pairs); ( ) and { } arrays of members; v a
// Variant. Alignment is counted from the start of the buffer, which callers keep
// 8-aligned with the message (the body starts on an 8-byte boundary).
import { Variant, type DBusValue } from "./dbus-variant";

// the values themselves live in dbus-variant.ts (what the annotations' checks need alone)
export { Variant, type DBusValue };

export class DBusError extends Error {}

const ALIGN: Record<string, number> = { y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, s: 4, o: 4, g: 1, a: 4, "(": 8, "{": 8, v: 1, h: 4 };

/** Index just past the single complete type starting at `i` in `sig`. */
export function typeEnd(sig: string, i: number): number {
  const c = sig[i];
  if (c === undefined) throw new DBusError(`signature "${sig}": ends early`);
  if (c === "a") return typeEnd(sig, i + 1);
  if (c === "(" || c === "{") {
    const close = c === "(" ? ")" : "}";
    let j = i + 1;
    while (sig[j] !== close) {
      if (j >= sig.length) throw new DBusError(`signature "${sig}": unclosed ${c}`);
      j = typeEnd(sig, j);
    }
    return j + 1;
  }
  if (!(c in ALIGN)) throw new DBusError(`signature "${sig}": unknown type ${c}`);
  return i + 1;
}

/** The complete types of a signature, e.g. "sa(sv)" -> ["s", "a(sv)"]. */
export function splitSignature(sig: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sig.length; ) {
    const end = typeEnd(sig, i);
    out.push(sig.slice(i, end));
    i = end;
  }
  return out;
}

/** Member types of a struct or dict entry type "(...)" / "{...}". */
function members(type: string): string[] {
  return splitSignature(type.slice(1, -1));
}

export class Writer {
  private buf = Buffer.alloc(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  align(n: number): void {
    const pad = (n - (this.length % n)) % n;
    this.room(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  private u32At(offset: number, v: number): void {
    this.buf.writeUInt32LE(v, offset);
  }

  write(type: string, value: DBusValue): void {
    const c = type[0]!;
    this.align(ALIGN[c] ?? 1);
    switch (c) {
      case "y":
        this.room(1);
        this.buf.writeUInt8(Number(value), this.length);
        this.length += 1;
        return;
      case "b":
      case "u":
      case "h":
        this.room(4);
        this.buf.writeUInt32LE(c === "b" ? (value ? 1 : 0) : Number(value), this.length);
        this.length += 4;
        return;
      case "i":
        this.room(4);
        this.buf.writeInt32LE(Number(value), this.length);
        this.length += 4;
        return;
      case "n":
      case "q":
        this.room(2);
        if (c === "n") this.buf.writeInt16LE(Number(value), this.length);
        else this.buf.writeUInt16LE(Number(value), this.length);
        this.length += 2;
        return;
      case "t":
      case "x":
        this.room(8);
        if (c === "t") this.buf.writeBigUInt64LE(BigInt(value as number | bigint), this.length);
        else this.buf.writeBigInt64LE(BigInt(value as number | bigint), this.length);
        this.length += 8;
        return;
      case "d":
        this.room(8);
        this.buf.writeDoubleLE(Number(value), this.length);
        this.length += 8;
        return;
      case "s":
      case "o": {
        const b = Buffer.from(String(value), "utf8");
        this.room(4 + b.length + 1);
        this.buf.writeUInt32LE(b.length, this.length);
        b.copy(this.buf, this.length + 4);
        this.buf[this.length + 4 + b.length] = 0;
        this.length += 4 + b.length + 1;
        return;
      }
      case "g": {
        const b = Buffer.from(String(value), "ascii");
        this.room(1 + b.length + 1);
        this.buf[this.length] = b.length;
        b.copy(this.buf, this.length + 1);
        this.buf[this.length + 1 + b.length] = 0;
        this.length += b.length + 2;
        return;
      }
      case "v": {
        if (!(value instanceof Variant)) throw new DBusError("a variant needs a Variant value");
        this.write("g", value.signature);
        this.write(value.signature, value.value);
        return;
      }
      case "a": {
        const elem = type.slice(1);
        if (!Array.isArray(value)) throw new DBusError(`an array (${type}) needs an array value`);
        const lengthAt = this.length;
        this.room(4);
        this.length += 4;
        // The length counts the elements only, not the padding before the first.
        this.align(ALIGN[elem[0]!] ?? 1);
        const start = this.length;
        for (const item of value) this.write(elem, item);
        this.u32At(lengthAt, this.length - start);
        return;
      }
      case "(":
      case "{": {
        const types = members(type);
        if (!Array.isArray(value) || value.length !== types.length) throw new DBusError(`${type} needs ${types.length} members`);
        types.forEach((t, k) => this.write(t, value[k]!));
        return;
      }
      default:
        throw new DBusError(`cannot write type ${type}`);
    }
  }
}

export class Reader {
  constructor(
    private readonly buf: Buffer,
    public offset = 0,
    /** Where alignment is counted from (the message's start). */
    private readonly base = 0,
  ) {}

  private align(n: number): void {
    const rel = this.offset - this.base;
    this.offset += (n - (rel % n)) % n;
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new DBusError("message is shorter than its signature says");
  }

  read(type: string): DBusValue {
    const c = type[0]!;
    this.align(ALIGN[c] ?? 1);
    switch (c) {
      case "y":
        this.need(1);
        return this.buf.readUInt8(this.offset++);
      case "b":
      case "u":
      case "h":
      case "i": {
        this.need(4);
        const v = c === "i" ? this.buf.readInt32LE(this.offset) : this.buf.readUInt32LE(this.offset);
        this.offset += 4;
        return c === "b" ? v !== 0 : v;
      }
      case "n":
      case "q": {
        this.need(2);
        const v = c === "n" ? this.buf.readInt16LE(this.offset) : this.buf.readUInt16LE(this.offset);
        this.offset += 2;
        return v;
      }
      case "t":
      case "x": {
        this.need(8);
        const v = c === "t" ? this.buf.readBigUInt64LE(this.offset) : this.buf.readBigInt64LE(this.offset);
        this.offset += 8;
        return v;
      }
      case "d": {
        this.need(8);
        const v = this.buf.readDoubleLE(this.offset);
        this.offset += 8;
        return v;
      }
      case "s":
      case "o": {
        this.need(4);
        const n = this.buf.readUInt32LE(this.offset);
        this.need(4 + n + 1);
        const s = this.buf.toString("utf8", this.offset + 4, this.offset + 4 + n);
        this.offset += 4 + n + 1;
        return s;
      }
      case "g": {
        this.need(1);
        const n = this.buf[this.offset]!;
        this.need(1 + n + 1);
        const s = this.buf.toString("ascii", this.offset + 1, this.offset + 1 + n);
        this.offset += n + 2;
        return s;
      }
      case "v": {
        const sig = this.read("g") as string;
        return new Variant(sig, this.read(sig));
      }
      case "a": {
        const elem = type.slice(1);
        this.need(4);
        const n = this.buf.readUInt32LE(this.offset);
        this.offset += 4;
        this.align(ALIGN[elem[0]!] ?? 1);
        const end = this.offset + n;
        this.need(n);
        const items: DBusValue[] = [];
        while (this.offset < end) items.push(this.read(elem));
        return items;
      }
      case "(":
      case "{":
        return members(type).map((t) => this.read(t));
      default:
        throw new DBusError(`cannot read type ${type}`);
    }
  }

  readAll(sig: string): DBusValue[] {
    return splitSignature(sig).map((t) => this.read(t));
  }
}
