// Words of a Dockerfile argument the way docker's shell lexer reads them: 'single quotes'
// literal, "double quotes" with $variables expanded, the escape character (\ or `) taking
// the next character literally, and $VAR, ${VAR}, ${VAR:-word}, ${VAR-word},
// ${VAR:+word}, ${VAR+word}, ${VAR:?message}, ${VAR?message} expanded from the build's
// environment (ENV and ARG in scope). No command substitution, no globbing: RUN's
// shell does those.
import { BuildError } from "./dockerfile";

export type Env = Map<string, string>;

class Lexer {
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly env: Env,
    private readonly escape: string,
  ) {}

  private peek(): string | undefined {
    return this.text[this.i];
  }

  private next(): string {
    return this.text[this.i++]!;
  }

  words(): string[] {
    const out: string[] = [];
    let cur = "";
    let inWord = false;
    while (this.i < this.text.length) {
      const c = this.next();
      if (/\s/.test(c)) {
        if (inWord) out.push(cur);
        cur = "";
        inWord = false;
        continue;
      }
      inWord = true;
      if (c === this.escape) cur += this.i < this.text.length ? this.next() : c;
      else if (c === "'") cur += this.until("'");
      else if (c === '"') cur += this.doubleQuoted();
      else if (c === "$") cur += this.variable();
      else cur += c;
    }
    if (inWord) out.push(cur);
    return out;
  }

  /** The whole text as one word (quotes removed, variables expanded, spaces kept): ENV values, WORKDIR, USER. */
  word(): string {
    let cur = "";
    while (this.i < this.text.length) {
      const c = this.next();
      if (c === this.escape) cur += this.i < this.text.length ? this.next() : c;
      else if (c === "'") cur += this.until("'");
      else if (c === '"') cur += this.doubleQuoted();
      else if (c === "$") cur += this.variable();
      else cur += c;
    }
    return cur;
  }

  private until(quote: string): string {
    const end = this.text.indexOf(quote, this.i);
    if (end < 0) throw new BuildError(`unterminated ${quote} quote`);
    const s = this.text.slice(this.i, end);
    this.i = end + 1;
    return s;
  }

  private doubleQuoted(): string {
    let cur = "";
    while (this.i < this.text.length) {
      const c = this.next();
      if (c === '"') return cur;
      if (c === this.escape && this.i < this.text.length) {
        const n = this.peek()!;
        if (n === '"' || n === "$" || n === this.escape) {
          cur += this.next();
          continue;
        }
        cur += c;
      } else if (c === "$") cur += this.variable();
      else cur += c;
    }
    throw new BuildError('unterminated " quote');
  }

  private variable(): string {
    const c = this.peek();
    if (c === "{") {
      this.next();
      const name = this.name();
      if (name === "") throw new BuildError(`bad substitution in "${this.text}"`);
      const op = /^(:?[-+?])/.exec(this.text.slice(this.i))?.[1];
      let word = "";
      if (op !== undefined) {
        this.i += op.length;
        word = this.braceWord();
      } else if (this.next() !== "}") throw new BuildError(`bad substitution in "${this.text}" (missing })`);
      const value = this.env.get(name);
      const set = value !== undefined;
      const nonEmpty = set && value !== "";
      switch (op) {
        case ":-":
          return nonEmpty ? value! : word;
        case "-":
          return set ? value! : word;
        case ":+":
          return nonEmpty ? word : "";
        case "+":
          return set ? word : "";
        case ":?":
          if (!nonEmpty) throw new BuildError(`${name}: ${word || "is not set"}`);
          return value!;
        case "?":
          if (!set) throw new BuildError(`${name}: ${word || "is not set"}`);
          return value!;
        default:
          return value ?? "";
      }
    }
    const name = this.name();
    if (name === "") return "$";
    return this.env.get(name) ?? "";
  }

  /** The word of ${VAR:-word} up to the closing brace, itself expanded. */
  private braceWord(): string {
    let cur = "";
    while (this.i < this.text.length) {
      const c = this.next();
      if (c === "}") return cur;
      if (c === this.escape && this.i < this.text.length) cur += this.next();
      else if (c === "'") cur += this.until("'");
      else if (c === '"') cur += this.doubleQuoted();
      else if (c === "$") cur += this.variable();
      else cur += c;
    }
    throw new BuildError(`bad substitution in "${this.text}" (missing })`);
  }

  private name(): string {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*|[0-9])/.exec(this.text.slice(this.i));
    if (!m) return "";
    this.i += m[1]!.length;
    return m[1]!;
  }
}

/** Words with quotes removed and variables expanded. */
export function expandWords(text: string, env: Env, escape: string): string[] {
  return new Lexer(text, env, escape).words();
}

/** One value with quotes removed and variables expanded, inner spaces kept. */
export function expandWord(text: string, env: Env, escape: string): string {
  return new Lexer(text, env, escape).word();
}

/**
 * `K=V K2="v 2"` pairs (ENV, LABEL, ARG), or the old `K V…` form (ENV and LABEL: one pair,
 * the rest of the line the value). Values expanded with `env`.
 */
export function keyValues(text: string, env: Env, escape: string, oldForm: boolean): [string, string][] {
  const first = /^\s*([^\s=]+)(\s+|=|$)/.exec(text);
  if (first && first[2] !== "=" && oldForm) {
    const value = text.slice(first[0].length);
    if (value.trim() === "") throw new BuildError(`${first[1]} needs a value (KEY=VALUE or KEY VALUE)`);
    return [[first[1]!, expandWord(value.trim(), env, escape)]];
  }
  return expandWords(text, env, escape).map((w) => {
    const eq = w.indexOf("=");
    if (eq === 0) throw new BuildError(`"${w}": KEY=VALUE needs a key`);
    return eq < 0 ? [w, ""] : [w.slice(0, eq), w.slice(eq + 1)];
  });
}
