// Linux arguments, environment entries and paths are bytes, not text. JavaScript
// strings are UTF-16, and Bun decodes process.argv and process.env as UTF-8 with
// U+FFFD for what is not valid UTF-8: the bytes are lost. mycr keeps them instead the
// way Python's "surrogateescape" does: each byte that is not part of valid UTF-8
// becomes the lone surrogate U+DC80 + (byte - 0x80), which valid UTF-8 can never
// produce, and turns back into that byte on the way out (execve, every path given to
// libc). A lone surrogate survives JSON.stringify ("\udcff") and JSON.parse, so specs,
// state and records carry such bytes unchanged.
import { readFileSync } from "node:fs";

const ESCAPE_BASE = 0xdc00; // U+DC80..U+DCFF for bytes 0x80..0xFF

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const c1 = b[i + 1] ?? 0;
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // a UTF-16 surrogate encoded: not UTF-8
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const c1 = b[i + 1] ?? 0;
    if (c === 0xf0 && c1 < 0x90) return 0; // overlong
    if (c === 0xf4 && c1 >= 0x90) return 0; // above U+10FFFF
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Bytes as a string, losing nothing: valid UTF-8 decoded, every other byte escaped. */
export function decodeBytes(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes); // the usual case: valid UTF-8
  } catch {
    // escaped byte by byte below
  }
  let out = "";
  let start = 0; // of the valid run not yet decoded
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += utf8.decode(bytes.subarray(start, i)) + String.fromCharCode(ESCAPE_BASE + bytes[i]!);
    i++;
    start = i;
  }
  return out + utf8.decode(bytes.subarray(start));
}

/** A string back to the bytes it came from: escaped bytes become themselves, the rest UTF-8. */
export function encodeBytes(text: string): Buffer {
  if (!hasEscapedBytes(text)) return Buffer.from(text);
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (!isEscape(text, i)) continue;
    parts.push(Buffer.from(text.slice(start, i)), Buffer.of(text.charCodeAt(i) - ESCAPE_BASE));
    start = i + 1;
  }
  parts.push(Buffer.from(text.slice(start)));
  return Buffer.concat(parts);
}

/** A lone U+DC80..U+DCFF at `i` (not the low half of a pair). */
function isEscape(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0xdc80 || c > 0xdcff) return false;
  const prev = i > 0 ? text.charCodeAt(i - 1) : 0;
  return !(prev >= 0xd800 && prev <= 0xdbff);
}

const MAYBE_ESCAPED = /[\udc80-\udcff]/;

/** True when `text` holds a byte that is not valid UTF-8 (see decodeBytes). */
export function hasEscapedBytes(text: string): boolean {
  if (!MAYBE_ESCAPED.test(text)) return false;
  for (let i = 0; i < text.length; i++) if (isEscape(text, i)) return true;
  return false;
}

/** The first escaped byte of `text`, as "0xff", for messages. */
export function firstEscapedByte(text: string): string | null {
  for (let i = 0; i < text.length; i++) if (isEscape(text, i)) return `0x${(text.charCodeAt(i) - ESCAPE_BASE).toString(16)}`;
  return null;
}

/** A NUL-separated /proc file (cmdline, environ) as exact strings; null when unreadable. */
export function readNulSeparated(path: string): string[] | null {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch {
    return null;
  }
  const items: string[] = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0) continue;
    items.push(decodeBytes(raw.subarray(start, i)));
    start = i + 1;
  }
  if (start < raw.length) items.push(decodeBytes(raw.subarray(start)));
  return items;
}

let environ: Map<string, string> | null = null;

/**
 * A variable of the environment mycr was started with, bytes kept (process.env has
 * U+FFFD where they were not UTF-8); one set later in process.env when the kernel's copy lacks it.
 */
export function callerVariable(key: string): string | undefined {
  if (!environ) {
    environ = new Map();
    for (const entry of readNulSeparated("/proc/self/environ") ?? []) {
      const eq = entry.indexOf("=");
      if (eq > 0 && !environ.has(entry.slice(0, eq))) environ.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  }
  return environ.get(key) ?? process.env[key];
}

/** The caller's environment as buildEnv reads it, bytes kept. */
export const callerEnvironment: Record<string, string | undefined> = new Proxy({}, { get: (_, key) => (typeof key === "string" ? callerVariable(key) : undefined) });
