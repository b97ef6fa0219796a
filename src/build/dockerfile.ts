// A Dockerfile (Containerfile) as docker's parser reads it: parser directives at the top
// (`# syntax=…`, `# escape=\` or `` ` ``) until the first other line, comment lines
// dropped (also between continued lines), a line ending in the escape character joined
// with the next, the first word the instruction (any case), then `--flag=value` words
// for the instructions that take them, then the arguments, JSON arrays recognised for
// the instructions that have an exec form. Every instruction keeps its line number so an
// error can name FILE:LINE.
import { ContainerError } from "../runtime/errors";

export interface Instruction {
  /** Upper case: RUN, COPY, … */
  name: string;
  /** Line where the instruction starts (1-based). */
  line: number;
  /** The instruction as written, continuations joined (for messages and history). */
  original: string;
  /** `--name=value` flags before the arguments (COPY --from, --chown, FROM --platform, …). */
  flags: Map<string, string>;
  /** The arguments after the flags, as text. */
  args: string;
  /** The exec (JSON) form's words, when the arguments are a JSON array of strings. */
  json?: string[];
}

export interface Dockerfile {
  file: string;
  escape: string;
  instructions: Instruction[];
}

/** A build error that names where: `Dockerfile:7: COPY: …`. */
export class BuildError extends ContainerError {}

/** `exitCode`: a failed RUN's own status, which `build` exits with (as podman does). */
export function at(file: string, ins: Pick<Instruction, "line" | "name">, message: string, exitCode = 125): BuildError {
  return new BuildError(`${file}:${ins.line}: ${ins.name}: ${message}`, exitCode);
}

const FLAGGED = new Set(["FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"]);
const JSON_FORMS = new Set(["RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"]);

function directives(lines: string[]): { escape: string; first: number } {
  let escape = "\\";
  let i = 0;
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = /^\s*#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (seen.has(key)) break; // docker: a repeated directive is a comment
    seen.add(key);
    if (key === "escape") {
      if (m[2] !== "\\" && m[2] !== "`") throw new BuildError(`line ${i + 1}: # escape= must be \\ or \`, not "${m[2]}"`);
      escape = m[2]!;
    } else if (key !== "syntax") break; // an unknown directive is a comment, and ends the directives
  }
  return { escape, first: i };
}

/** `--name=value` words at the start of `rest`; the rest after them. */
function takeFlags(rest: string, file: string, line: number, name: string): { flags: Map<string, string>; args: string } {
  const flags = new Map<string, string>();
  for (;;) {
    const m = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    if (m[2] === undefined && m[1] !== "link" && m[1] !== "keep-git-dir") throw at(file, { line, name }, `--${m[1]} needs a value (--${m[1]}=VALUE)`);
    flags.set(m[1]!, m[2] ?? "true");
    rest = rest.slice(m[0].length);
  }
  return { flags, args: rest.trim() };
}

function jsonForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const v = JSON.parse(args) as unknown;
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
  } catch {
    // not JSON: the shell form, as docker takes it
  }
  return undefined;
}

export function parseDockerfile(text: string, file: string): Dockerfile {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const { escape, first } = directives(lines);
  const continued = new RegExp(`${escape === "\\" ? "\\\\" : "`"}[ \\t]*$`);
  const instructions: Instruction[] = [];
  let current: { line: number; text: string } | null = null;
  for (let i = first; i < lines.length; i++) {
    const raw = lines[i]!;
    if (/^\s*#/.test(raw)) continue; // a comment, inside a continuation too
    if (current === null && raw.trim() === "") continue;
    if (current !== null && raw.trim() === "") continue; // docker warns and goes on
    const more = continued.test(raw);
    const part = more ? raw.replace(continued, "") : raw;
    if (current === null) current = { line: i + 1, text: part };
    else current.text += part;
    if (more) continue;
    instructions.push(instruction(current.text, current.line, file));
    current = null;
  }
  if (current !== null) instructions.push(instruction(current.text, current.line, file));
  if (instructions.length === 0) throw new BuildError(`${file}: no instructions`);
  if (instructions[0]!.name !== "FROM" && !(instructions[0]!.name === "ARG" && instructions.some((i) => i.name === "FROM"))) {
    throw at(file, instructions[0]!, "the first instruction must be FROM (or ARG before FROM)");
  }
  return { file, escape, instructions };
}

function instruction(text: string, line: number, file: string): Instruction {
  const m = /^\s*(\S+)\s*(.*)$/s.exec(text)!;
  const name = m[1]!.toUpperCase();
  let rest = m[2]!.trim();
  let flags = new Map<string, string>();
  if (FLAGGED.has(name)) ({ flags, args: rest } = takeFlags(rest, file, line, name));
  const json = JSON_FORMS.has(name) ? jsonForm(rest) : undefined;
  return { name, line, original: text.trim(), flags, args: rest, ...(json ? { json } : {}) };
}
