// The build context: the directory given to `build`, less what `.dockerignore` excludes,
// and the sources a COPY or ADD names in it (paths or Go-style globs: `*`, `?`, `[a-z]`,
// and `**` for any number of directories in .dockerignore), as docker matches them.
import { existsSync, lstatSync, readFileSync, readdirSync, type Stats } from "node:fs";
import { join } from "node:path";
import { BuildError } from "./dockerfile";

interface IgnoreRule {
  re: RegExp;
  exclude: boolean;
}

/** A Go filepath.Match pattern (plus `**`) as a regular expression over a whole relative path. */
export function globRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?"; // **/ : any number of directories, none included
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) throw new BuildError(`pattern "${pattern}": unterminated [`);
      let body = pattern.slice(i + 1, end);
      if (body.startsWith("^")) body = `^${body.slice(1)}`;
      else if (body.startsWith("!")) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += c.replace(/[.+^${}()|\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function hasGlob(text: string): boolean {
  return /[*?[]/.test(text);
}

/** A path inside the context, cleaned; `..` that would leave it is refused. */
export function contextPath(text: string): string {
  const out: string[] = [];
  for (const p of text.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (out.length === 0) throw new BuildError(`"${text}" is outside the build context`);
      out.pop();
    } else out.push(p);
  }
  return out.join("/");
}

export class BuildContext {
  private readonly rules: IgnoreRule[];
  private all?: string[];

  constructor(readonly dir: string) {
    const file = join(dir, ".dockerignore");
    const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n") : [];
    this.rules = lines
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => {
        const exclude = !l.startsWith("!");
        const body = exclude ? l : l.slice(1).trim();
        return { re: globRegExp(contextPath(body) || "."), exclude };
      });
  }

  /** Excluded by .dockerignore: the last rule that matches the path or one of its parents decides. */
  ignored(rel: string): boolean {
    if (rel === "") return false;
    let out = false;
    const parts = rel.split("/");
    for (const rule of this.rules) {
      for (let n = 1; n <= parts.length; n++) {
        if (rule.re.test(parts.slice(0, n).join("/"))) {
          out = rule.exclude;
          break;
        }
      }
    }
    return out;
  }

  /**
   * The entry at `rel` itself (a symlink is not followed). A path through a symlink is
   * refused: a context from an untrusted repository could otherwise name `link/etc/shadow`
   * with `link -> /` and copy the host's files into the image.
   */
  stat(rel: string): Stats | null {
    const parts = rel.split("/").filter((p) => p !== "");
    for (let n = 1; n <= parts.length; n++) {
      let st: Stats;
      try {
        st = lstatSync(join(this.dir, ...parts.slice(0, n)));
      } catch {
        return null;
      }
      if (n === parts.length) return st;
      if (st.isSymbolicLink()) throw new BuildError(`${rel}: ${parts.slice(0, n).join("/")} is a symlink; paths through the build context's symlinks are not followed`);
      if (!st.isDirectory()) return null;
    }
    return lstatSync(this.dir);
  }

  /** Every path in the context that is not ignored (directories too), parents before children. */
  paths(): string[] {
    if (this.all) return this.all;
    const out: string[] = [];
    const walk = (rel: string) => {
      for (const name of readdirSync(join(this.dir, rel)).sort()) {
        const child = rel === "" ? name : `${rel}/${name}`;
        const st = lstatSync(join(this.dir, child));
        if (!this.ignored(child)) out.push(child);
        // An ignored directory may still hold a `!` exception.
        if (st.isDirectory() && (!this.ignored(child) || this.rules.some((r) => !r.exclude))) walk(child);
      }
    };
    walk("");
    this.all = out;
    return out;
  }

  /** What a COPY/ADD source names: the path itself, or every path the glob matches. */
  sources(text: string): string[] {
    const rel = contextPath(text);
    if (!hasGlob(rel)) {
      if (rel !== "" && (this.ignored(rel) || this.stat(rel) === null)) throw new BuildError(`${text}: no such file or directory in the build context${this.ignored(rel) ? " (excluded by .dockerignore)" : ""}`);
      return [rel];
    }
    const re = globRegExp(rel);
    const found = this.paths().filter((p) => re.test(p));
    if (found.length === 0) throw new BuildError(`${text}: no files in the build context match`);
    return found;
  }

  /** The paths below a source directory that are not ignored, parents first. */
  below(rel: string): string[] {
    if (rel === "") return this.paths();
    return this.paths().filter((p) => p.startsWith(`${rel}/`));
  }
}
