// The container's environment from -e and --env-file, over mycr's defaults.
import { readFileSync } from "node:fs";
import { ContainerError } from "../runtime/errors";
import { callerEnvironment, decodeBytes } from "../sys/bytes";

/** `KEY=VALUE` as given, or `KEY` taken from mycr's own environment (left out when unset, as docker). */
function entry(text: string, where: string, callerEnv: Record<string, string | undefined>): string | null {
  const eq = text.indexOf("=");
  const key = eq >= 0 ? text.slice(0, eq) : text;
  if (key === "") throw new ContainerError(`${where}: "${text}": the variable name is empty`);
  if (/\s/.test(key)) throw new ContainerError(`${where}: "${key}": a variable name cannot contain whitespace`);
  if (eq >= 0) return text;
  const value = callerEnv[key];
  return value === undefined ? null : `${key}=${value}`;
}

/** Lines of an env file: KEY=VALUE or KEY; blank lines and lines starting with # are skipped; no quoting. */
function readEnvFile(path: string, callerEnv: Record<string, string | undefined>): string[] {
  let text: string;
  try {
    text = decodeBytes(readFileSync(path)); // values are the container's: every byte kept
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ContainerError(`--env-file ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message}`);
  }
  const out: string[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/^\s+/, "").replace(/\r$/, "");
    if (line === "" || line.startsWith("#")) continue;
    const e = entry(line, `--env-file ${path}:${i + 1}`, callerEnv);
    if (e !== null) out.push(e);
  }
  return out;
}

/** defaults, then env files in order, then -e in order; a later KEY replaces an earlier one in place. */
export function buildEnv(defaults: string[], envFiles: string[], flags: string[], callerEnv = callerEnvironment): string[] {
  const merged = new Map<string, string>();
  const add = (e: string) => merged.set(e.slice(0, e.indexOf("=")), e);
  defaults.forEach(add);
  for (const file of envFiles) readEnvFile(file, callerEnv).forEach(add);
  for (const text of flags) {
    const e = entry(text, "-e", callerEnv);
    if (e !== null) add(e);
  }
  return [...merged.values()];
}

/**
 * -e and --env-file resolved now, in this process, as KEY=VALUE entries in their order:
 * for a detached container, whose monitor has another environment (one Bun.spawn would
 * pass with U+FFFD for bytes that are not UTF-8). buildEnv(defaults, [], resolveEnv(...))
 * equals buildEnv(defaults, files, flags). A served run passes its client's environment.
 */
export function resolveEnv(envFiles: string[], flags: string[], callerEnv = callerEnvironment): string[] {
  return buildEnv([], envFiles, flags, callerEnv);
}
