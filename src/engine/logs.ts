// A detached container's output: JSON lines {time, stream, log} as docker's json-file
// driver writes them, in MYCR_ROOT/containers/<id>/container.log, rotated by size into
// container.log.1 (the newest old one), .2, ... up to max-file files in all.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "../runtime/errors";
import { parseSize } from "./units";

export interface LogOptions {
  /** Bytes after which the log is rotated; 0: never. */
  maxSize: number;
  maxFiles: number;
}

export interface LogEntry {
  time: string;
  stream: "stdout" | "stderr";
  log: string;
}

export const LOG_FILE = "container.log";

export function logPath(dir: string): string {
  return join(dir, LOG_FILE);
}

/** `--log-opt max-size=10m,max-file=3` (repeatable); defaults: 10 MB, 3 files. */
export function parseLogOptions(opts: string[]): LogOptions {
  const result: LogOptions = { maxSize: 10 * 1024 * 1024, maxFiles: 3 };
  for (const item of opts.flatMap((o) => o.split(","))) {
    const [key, value = ""] = item.split("=", 2) as [string, string?];
    if (key === "max-size") {
      if (value === "-1") result.maxSize = 0;
      else {
        result.maxSize = parseSize("--log-opt max-size", value);
        if (result.maxSize <= 0) throw new ContainerError(`--log-opt ${item}: expected a size such as 10m`);
      }
    } else if (key === "max-file") {
      if (!/^\d+$/.test(value) || Number(value) < 1) throw new ContainerError(`--log-opt ${item}: expected a number of files, at least 1`);
      result.maxFiles = Number(value);
    } else {
      throw new ContainerError(`--log-opt ${item}: unknown option (max-size, max-file)`);
    }
  }
  return result;
}

/** Appends entries, splitting each stream into lines (a line longer than 16 KiB is cut, as docker). */
export class LogWriter {
  private fd: number;
  private size: number;
  private pending: Record<LogEntry["stream"], string> = { stdout: "", stderr: "" };

  constructor(
    private readonly path: string,
    private readonly opts: LogOptions,
  ) {
    this.fd = openSync(path, "a", 0o600);
    this.size = fstatSync(this.fd).size;
  }

  write(stream: LogEntry["stream"], text: string): void {
    let buf = this.pending[stream] + text;
    const lines: string[] = [];
    for (let start = 0; ; ) {
      const nl = buf.indexOf("\n", start);
      const cut = nl >= 0 ? nl + 1 : buf.length - start >= 16384 ? start + 16384 : -1;
      if (cut < 0) {
        buf = buf.slice(start);
        break;
      }
      lines.push(buf.slice(start, cut));
      start = cut;
    }
    this.append(stream, lines);
    this.pending[stream] = buf;
  }

  /** Writes what is left of a line without its newline (at the end of a stream). */
  flush(stream: LogEntry["stream"]): void {
    if (this.pending[stream]) this.append(stream, [this.pending[stream]]);
    this.pending[stream] = "";
  }

  close(): void {
    this.flush("stdout");
    this.flush("stderr");
    closeSync(this.fd);
  }

  /**
   * Appends one entry per line, in as few writes as rotation allows: a container that
   * floods its output costs one write per chunk read, not one per line (the supervisor
   * serves others meanwhile).
   */
  private append(stream: LogEntry["stream"], logs: string[]): void {
    const time = new Date().toISOString();
    let batch: Buffer[] = [];
    let batchSize = 0;
    for (const log of logs) {
      const line = Buffer.from(JSON.stringify({ time, stream, log } satisfies LogEntry) + "\n");
      if (this.opts.maxSize > 0 && this.size + batchSize > 0 && this.size + batchSize + line.length > this.opts.maxSize) {
        this.writeAll(Buffer.concat(batch));
        batch = [];
        batchSize = 0;
        this.rotate();
      }
      batch.push(line);
      batchSize += line.length;
    }
    this.writeAll(Buffer.concat(batch));
  }

  private writeAll(data: Buffer): void {
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off);
    this.size += data.length;
  }

  private rotate(): void {
    closeSync(this.fd);
    const n = this.opts.maxFiles - 1;
    if (n === 0) rmSync(this.path, { force: true });
    else {
      rmSync(`${this.path}.${n}`, { force: true });
      for (let i = n - 1; i >= 1; i--) if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      renameSync(this.path, `${this.path}.1`);
    }
    this.fd = openSync(this.path, "a", 0o600);
    this.size = 0;
  }
}

/** The log files, oldest first. */
export function logFiles(path: string): string[] {
  const files: string[] = [];
  for (let i = 1; existsSync(`${path}.${i}`); i++) files.unshift(`${path}.${i}`);
  if (existsSync(path)) files.push(path);
  return files;
}

export function parseEntries(text: string): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      entries.push(JSON.parse(line) as LogEntry);
    } catch {
      // a line cut by a crash mid-write: skip it
    }
  }
  return entries;
}

/**
 * Every entry so far, and where the live file was read up to (to follow on from there).
 * The live file is opened before the rotated ones are listed: rotation removes the
 * oldest, then renames the live file to .1 and starts a new one, and a list taken first
 * could miss both (an empty answer from a log full of lines). A rotated file that is the
 * one we hold open (renamed since) is read once, through our fd.
 */
export function readLog(path: string): { entries: LogEntry[]; position: LogPosition } {
  let position: LogPosition = { ino: -1, offset: 0 };
  let live = "";
  let fd = -1;
  try {
    fd = openSync(path, "r");
  } catch {
    // no live file yet, or it is being rotated: the rotated files below hold its lines
  }
  try {
    const liveIno = fd >= 0 ? fstatSync(fd).ino : -1;
    const old = logFiles(path).filter((f) => f !== path && statIno(f) !== liveIno);
    const entries = old.flatMap((f) => parseEntries(readIfThere(f)));
    if (fd >= 0) {
      const data = readFileSync(fd);
      // only whole lines: a line being written is read again by the follower
      const end = data.lastIndexOf(0x0a) + 1;
      live = data.subarray(0, end).toString("utf8");
      position = { ino: liveIno, offset: end };
    }
    return { entries: [...entries, ...parseEntries(live)], position };
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function statIno(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    return -2; // gone meanwhile: never our fd's
  }
}

/** A rotated file, or "" if the oldest was removed by a rotation meanwhile. */
function readIfThere(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export interface LogPosition {
  ino: number;
  offset: number;
}

/** Follows the live file from `offset`, noticing rotation (a new inode): returns new entries. */
export class LogFollower {
  private ino: number;
  private offset: number;
  private partial = "";

  constructor(
    private readonly path: string,
    from: LogPosition,
  ) {
    this.ino = from.ino;
    this.offset = from.offset;
  }

  poll(): LogEntry[] {
    let st;
    try {
      st = statSync(this.path);
    } catch {
      return [];
    }
    let text = "";
    if (st.ino !== this.ino) {
      // rotated: the rest of the old file is now container.log.1
      if (this.ino !== -1 && existsSync(`${this.path}.1`) && statSync(`${this.path}.1`).ino === this.ino) {
        text += this.readFrom(`${this.path}.1`, this.offset);
      }
      this.ino = st.ino;
      this.offset = 0;
    }
    const fresh = this.readFrom(this.path, this.offset);
    this.offset += Buffer.byteLength(fresh);
    text = this.partial + text + fresh;
    const end = text.lastIndexOf("\n") + 1;
    this.partial = text.slice(end);
    return parseEntries(text.slice(0, end));
  }

  private readFrom(path: string, offset: number): string {
    try {
      const data = readFileSync(path);
      return data.subarray(Math.min(offset, data.length)).toString("utf8");
    } catch {
      return "";
    }
  }
}

/** --since: an RFC 3339 time, a Unix timestamp, or a duration before now (10m, 1h30m, 45s). */
export function parseSince(text: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const rel = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (rel && text !== "") return now - ((Number(rel[1] ?? 0) * 60 + Number(rel[2] ?? 0)) * 60 + Number(rel[3] ?? 0)) * 1000;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new ContainerError(`--since ${text}: expected a time (2024-05-01T10:00:00Z), a Unix timestamp or a duration (10m)`);
  return t;
}
