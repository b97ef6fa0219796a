// Cgroup files: writes whose failures name the file and the value.
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CgroupError } from "./types";

export function writeCgroupFile(dir: string, file: string, value: string | number): void {
  try {
    writeFileSync(join(dir, file), String(value));
  } catch (e) {
    throw writeError(dir, file, value, e);
  }
}

function writeError(dir: string, file: string, value: string | number, e: unknown): CgroupError {
  const code = (e as NodeJS.ErrnoException).code ?? "error";
  return new CgroupError(`cannot set ${file} to ${value} (${code}) in ${dir}`, code);
}

/**
 * Writes lines in order, each with a write(2) of its own (v1's devices.allow and
 * devices.deny take one rule a write), through one fd per file: a container's ~20 device
 * rules were ~20 opens and closes of the same file.
 */
export function writeCgroupLines(dir: string, lines: Array<[file: string, line: string]>): void {
  const fds = new Map<string, number>();
  try {
    for (const [file, line] of lines) {
      try {
        let fd = fds.get(file);
        if (fd === undefined) fds.set(file, (fd = openSync(join(dir, file), "w")));
        writeSync(fd, line);
      } catch (e) {
        throw writeError(dir, file, line, e);
      }
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}

export function readCgroupFile(dir: string, file: string): string | null {
  try {
    return readFileSync(join(dir, file), "utf8").trim();
  } catch {
    return null;
  }
}

export function readNumber(dir: string, file: string): number | null {
  const text = readCgroupFile(dir, file);
  if (text === null || text === "max") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** "key value" lines (memory.events, cpu.stat, memory.oom_control) as a map. */
export function readKeyed(dir: string, file: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of (readCgroupFile(dir, file) ?? "").split("\n")) {
    const [k, v] = line.split(/\s+/);
    if (k && v !== undefined) map.set(k, Number(v));
  }
  return map;
}

export function readPids(dir: string): number[] {
  return (readCgroupFile(dir, "cgroup.procs") ?? "").split("\n").filter(Boolean).map(Number);
}

/** writeCgroupFile for a config field: a failure names the field first, and what to do for the errors in `advice`. */
export function writeField(field: string, dir: string, file: string, value: string | number, advice: Record<string, string> = {}): void {
  try {
    writeCgroupFile(dir, file, value);
  } catch (e) {
    const code = (e as CgroupError).code;
    const hint = code && advice[code] ? `: ${advice[code]}` : "";
    throw new CgroupError(`${field}: ${(e as Error).message}${hint}`, code);
  }
}

/** The first of `files` the cgroup has, or a refusal naming the field and what is missing. */
export function firstFile(field: string, dir: string, files: string[], why: string): string {
  const found = files.find((f) => existsSync(join(dir, f)));
  if (!found) throw new CgroupError(`${field}: this host's kernel has no ${files.join(" or ")} (${why})`);
  return found;
}

/** Read and written bytes from v1's blkio.throttle.io_service_bytes ("MAJ:MIN Read N" lines). */
export function ioBytesV1(text: string | null): { blockRead: number | null; blockWrite: number | null } {
  if (text === null) return { blockRead: null, blockWrite: null };
  let blockRead = 0;
  let blockWrite = 0;
  for (const m of text.matchAll(/^\d+:\d+ (Read|Write) (\d+)$/gm)) {
    if (m[1] === "Read") blockRead += Number(m[2]);
    else blockWrite += Number(m[2]);
  }
  return { blockRead, blockWrite };
}

/** Read and written bytes from v2's io.stat ("MAJ:MIN rbytes=N wbytes=N ..." lines). */
export function ioBytesV2(text: string | null): { blockRead: number | null; blockWrite: number | null } {
  if (text === null) return { blockRead: null, blockWrite: null };
  const sum = (key: string) => [...text.matchAll(new RegExp(`\\b${key}=(\\d+)`, "g"))].reduce((n, m) => n + Number(m[1]), 0);
  return { blockRead: sum("rbytes"), blockWrite: sum("wbytes") };
}
