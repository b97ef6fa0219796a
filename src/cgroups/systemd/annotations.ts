// `org.systemd.property.<Name>` annotations: extra properties for the container's
// transient scope, read as runc reads them. The value is in GVariant's text format (what
// runc's D-Bus library parses): `true`, `42` (int32), `uint64 42` / `@t 42` (a typed
// number), `1.5` (double), `'text'`, `['a', 'b']`, `@au [1, 2]`. A name ending in a
// lowercase letter + "Sec" is given in seconds and sent as <Name without Sec>USec in
// microseconds (TimeoutStopSec=5 -> TimeoutStopUSec=5000000), as runc does. What mycr
// cannot read is refused in one line naming the annotation.
import { CgroupError } from "../types";
import { Variant, type DBusValue } from "./dbus-variant";
import type { Property } from "./properties";

export const SYSTEMD_PROPERTY_PREFIX = "org.systemd.property.";

/** Properties mycr sets itself and depends on: the scope would not be where mycr looks for it. */
const OWN = new Set(["PIDs", "Slice", "Delegate", "Description"]);

/** GVariant's type keywords and @-signatures for numbers, with their ranges. */
const NUMBER_TYPES: Record<string, { sig: string; min: bigint; max: bigint } | { sig: "d" }> = {
  byte: { sig: "y", min: 0n, max: 0xffn },
  int16: { sig: "n", min: -(2n ** 15n), max: 2n ** 15n - 1n },
  uint16: { sig: "q", min: 0n, max: 0xffffn },
  int32: { sig: "i", min: -(2n ** 31n), max: 2n ** 31n - 1n },
  uint32: { sig: "u", min: 0n, max: 0xffff_ffffn },
  int64: { sig: "x", min: -(2n ** 63n), max: 2n ** 63n - 1n },
  uint64: { sig: "t", min: 0n, max: 2n ** 64n - 1n },
  double: { sig: "d" },
};
const BY_SIGNATURE = Object.fromEntries(Object.entries(NUMBER_TYPES).map(([k, v]) => [v.sig, k]));

const FORMS = "true/false, a number (42, uint64 42, @t 42, 1.5), 'text', ['a', 'b'] or @au [1, 2]";

class Parser {
  i = 0;
  constructor(readonly text: string) {}

  fail(): never {
    throw new CgroupError(`value ${JSON.stringify(this.text)}: not a form mycr reads (${FORMS})`);
  }

  space(): void {
    while (this.i < this.text.length && /\s/.test(this.text[this.i]!)) this.i++;
  }

  /** A word (letters, digits, @, ., +, -, x): a keyword, a signature or a number. */
  word(): string {
    this.space();
    const m = /^[@A-Za-z0-9_.+-]+/.exec(this.text.slice(this.i));
    if (!m) return "";
    this.i += m[0].length;
    return m[0];
  }

  end(): void {
    this.space();
    if (this.i !== this.text.length) this.fail();
  }

  string(): string {
    this.space();
    const quote = this.text[this.i];
    if (quote !== "'" && quote !== '"') this.fail();
    let out = "";
    for (this.i++; this.i < this.text.length; this.i++) {
      const c = this.text[this.i]!;
      if (c === quote) {
        this.i++;
        return out;
      }
      if (c === "\\") {
        const next = this.text[++this.i];
        if (next === undefined) this.fail();
        out += next === "n" ? "\n" : next === "t" ? "\t" : next;
      } else out += c;
    }
    return this.fail();
  }

  number(word: string, sig: string): DBusValue {
    if (sig === "d") {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(word)) this.fail();
      return Number(word);
    }
    if (!/^[+-]?(\d+|0[xX][0-9a-fA-F]+)$/.test(word)) this.fail();
    const negative = word.startsWith("-");
    const n = BigInt(word.replace(/^[+-]/, "")) * (negative ? -1n : 1n);
    const range = NUMBER_TYPES[BY_SIGNATURE[sig]!] as { min: bigint; max: bigint };
    if (n < range.min || n > range.max) throw new CgroupError(`value ${JSON.stringify(this.text)}: ${n} is out of range for ${BY_SIGNATURE[sig]}`);
    return sig === "x" || sig === "t" ? n : Number(n);
  }

  /** A number, possibly after a type keyword or @-signature; untyped: int32, or double with a point. */
  typedNumber(first: string, given?: string): Variant {
    let word = first;
    let sig = given;
    if (NUMBER_TYPES[word]) {
      sig = NUMBER_TYPES[word]!.sig;
      word = this.word();
    } else if (word.startsWith("@")) {
      sig = word.slice(1);
      if (!BY_SIGNATURE[sig]) this.fail();
      word = this.word();
    }
    sig ??= /^[+-]?\d+$|^0[xX]/.test(word) ? "i" : "d";
    if (!BY_SIGNATURE[sig]) this.fail(); // a number among strings
    return new Variant(sig, this.number(word, sig));
  }

  array(elementSig?: string): Variant {
    this.space();
    if (this.text[this.i] !== "[") this.fail();
    this.i++;
    const items: Variant[] = [];
    for (;;) {
      this.space();
      if (this.text[this.i] === "]" && items.length === 0) break;
      const c = this.text[this.i];
      const item = c === "'" || c === '"' ? new Variant("s", this.string()) : this.typedNumber(this.word(), elementSig ?? items[0]?.signature);
      if (items.length > 0 && item.signature !== items[0]!.signature) this.fail();
      if (elementSig !== undefined && item.signature !== elementSig) this.fail();
      items.push(item);
      this.space();
      if (this.text[this.i] === ",") this.i++;
      else if (this.text[this.i] === "]") break;
      else this.fail();
    }
    this.i++;
    const sig = elementSig ?? items[0]?.signature;
    if (sig === undefined) this.fail(); // [] without a type: GVariant cannot type it either
    return new Variant(`a${sig}`, items.map((v) => v.value));
  }

  value(): Variant {
    this.space();
    const c = this.text[this.i];
    let v: Variant;
    if (c === "'" || c === '"') v = new Variant("s", this.string());
    else if (c === "[") v = this.array();
    else {
      const word = this.word();
      if (word === "true" || word === "false") v = new Variant("b", word === "true");
      else if (/^@a[sybnqiuxtd]$/.test(word)) v = this.array(word.slice(2));
      else v = this.typedNumber(word);
    }
    this.end();
    return v;
  }
}

/** runc's name rule: ASCII letters only, at least three, the first uppercase. */
function checkName(name: string): void {
  if (!/^[A-Z][A-Za-z]{2,}$/.test(name)) throw new CgroupError("not a systemd property name (letters only, starting with a capital)");
  if (OWN.has(name)) throw new CgroupError(`${name} is set by mycr itself (the scope must be where mycr looks for it)`);
}

/** Seconds to microseconds, for the <name>Sec properties: always sent as uint64. */
function toUSec(v: Variant): Variant {
  if (!BY_SIGNATURE[v.signature]) throw new CgroupError("a ...Sec property needs a number of seconds");
  const value = v.value as number | bigint;
  if (value < 0) throw new CgroupError("a ...Sec property cannot be negative");
  const usec = typeof value === "bigint" ? value * 1_000_000n : BigInt(Math.round(value * 1_000_000));
  return new Variant("t", usec);
}

/** The extra unit properties in `annotations`; throws a CgroupError naming the first that cannot be read. */
export function annotationProperties(annotations: Record<string, string> | undefined): Property[] {
  const props: Property[] = [];
  for (const [key, text] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(SYSTEMD_PROPERTY_PREFIX)) continue;
    let name = key.slice(SYSTEMD_PROPERTY_PREFIX.length);
    try {
      checkName(name);
      let value = new Parser(text).value();
      if (/[a-z]Sec$/.test(name)) {
        value = toUSec(value);
        name = `${name.slice(0, -3)}USec`;
      }
      props.push([name, value]);
    } catch (e) {
      throw new CgroupError(`annotations.${key}: ${(e as Error).message}`);
    }
  }
  return props;
}
