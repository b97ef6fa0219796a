// Strict command-line parsing over citty's argument definitions. citty's own parser
// accepts unknown flags silently and keeps parsing after the container command
// (so `run ls -l` would eat `-l`); a runtime must do neither.
import type { ArgsDef } from "citty";
import { firstEscapedByte } from "../sys/bytes";

export class UsageError extends Error {}

export interface ParseOptions {
  /** Everything from the first positional argument on is the container's command. */
  stopAtFirstPositional?: boolean;
  /** How many leading positionals belong to mycr before the command starts (e.g. exec's ID). */
  leadingPositionals?: number;
  /**
   * Flags whose values go to the container's process byte for byte (-e): they may hold
   * bytes that are not UTF-8. Every other value is mycr's to read, and such bytes there
   * are refused rather than changed (see sys/bytes.ts). So is the command's part when
   * the command has none (stopAtFirstPositional).
   */
  bytesFlags?: string[];
}

/** A value mycr itself reads must be text: a byte that is not UTF-8 is an error, never replaced. */
function refuseBytes(what: string, value: string): void {
  const byte = firstEscapedByte(value);
  if (byte !== null) throw new UsageError(`${what}: not valid UTF-8 (byte ${byte}); give it in UTF-8 (only the container's command and -e values may hold other bytes)`);
}

export type ParsedFlags = Record<string, string | boolean | string[] | undefined> & { _: string[] };

interface FlagSpec {
  name: string;
  type: "boolean" | "string" | "enum";
  options?: string[];
}

function flagTable(def: ArgsDef): Map<string, FlagSpec> {
  const table = new Map<string, FlagSpec>();
  for (const [name, arg] of Object.entries(def)) {
    if (arg.type === "positional") continue;
    const spec: FlagSpec = { name, type: arg.type ?? "string", options: "options" in arg ? arg.options : undefined };
    table.set(name, spec);
    const aliases = "alias" in arg && arg.alias ? (Array.isArray(arg.alias) ? arg.alias : [arg.alias]) : [];
    for (const a of aliases) table.set(a, spec);
  }
  return table;
}

function store(out: ParsedFlags, spec: FlagSpec, value: string | boolean): void {
  if (spec.type === "enum" && typeof value === "string" && spec.options && !spec.options.includes(value)) {
    throw new UsageError(`--${spec.name} must be one of ${spec.options.join(", ")}, not "${value}"`);
  }
  const prev = out[spec.name];
  if (typeof value === "string" && typeof prev === "string") out[spec.name] = [prev, value];
  else if (typeof value === "string" && Array.isArray(prev)) prev.push(value);
  else out[spec.name] = value;
}

export function parseFlags(argv: string[], def: ArgsDef, opts: ParseOptions = {}): ParsedFlags {
  const table = flagTable(def);
  const out: ParsedFlags = { _: [] };
  let positionals = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      const rest = argv.slice(i + 1);
      // After "--" the container's command begins (mycr's own positionals, when it takes any, come first)
      const mine = opts.stopAtFirstPositional ? Math.max(0, (opts.leadingPositionals ?? 0) - positionals) : rest.length;
      rest.slice(0, mine).forEach((a) => refuseBytes(`argument ${JSON.stringify(a)}`, a));
      out._.push(...rest);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      out._.push(arg);
      positionals++;
      if (opts.stopAtFirstPositional && positionals > (opts.leadingPositionals ?? 0)) {
        out._.push(...argv.slice(i + 1));
        break;
      }
      refuseBytes(`argument ${JSON.stringify(arg)}`, arg);
      continue;
    }
    // --name=value, --name value, -n value, -abc (booleans)
    const long = arg.startsWith("--");
    const body = long ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    let spec = table.get(name);
    if (!spec && !long && inline === undefined && name.length > 1 && [...name].every((c) => table.get(c)?.type === "boolean")) {
      for (const c of name) store(out, table.get(c)!, true);
      continue;
    }
    if (!spec && long && name.startsWith("no-")) {
      const negated = table.get(name.slice(3));
      if (negated?.type === "boolean") {
        store(out, negated, false);
        continue;
      }
    }
    if (!spec) throw new UsageError(`unknown flag: ${long ? "--" : "-"}${name}`);
    if (spec.type === "boolean") {
      if (inline === undefined) store(out, spec, true);
      else if (inline === "true" || inline === "false") store(out, spec, inline === "true");
      else throw new UsageError(`--${spec.name} takes no value`);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`flag --${spec.name} needs a value`);
    if (!opts.bytesFlags?.includes(spec.name)) refuseBytes(`--${spec.name}`, value);
    store(out, spec, value);
  }
  for (const [name, arg] of Object.entries(def)) {
    if (arg.type !== "positional" && out[name] === undefined && arg.default !== undefined) {
      out[name] = arg.default as string | boolean;
    }
  }
  return out;
}

/** A flag that may be given several times, as a list. */
export function list(value: string | boolean | string[] | undefined): string[] {
  if (value === undefined || typeof value === "boolean") return [];
  return Array.isArray(value) ? value : [value];
}

/** A flag given at most once, as a string (the last one wins, as with docker). */
export function single(value: string | boolean | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value[value.length - 1];
  return typeof value === "string" ? value : undefined;
}
