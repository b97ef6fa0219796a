// docker's unit syntax for sizes and CPU lists, with errors that name the flag.
import { ContainerError } from "../runtime/errors";

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** "512m", "1.5g", "1024" (bytes) -> bytes, as docker's RAMInBytes; units are powers of 1024. */
export function parseSize(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new ContainerError(`${flag} ${text}: not a size (use a number with an optional unit b, k, m, g: 512m, 1.5g)`);
  const bytes = Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(bytes)) throw new ContainerError(`${flag} ${text}: too large`);
  return bytes;
}

export function parseInteger(flag: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text.trim())) throw new ContainerError(`${flag} ${text}: not an integer`);
  const n = Number(text);
  if (n < min || n > max) throw new ContainerError(`${flag} ${text}: must be between ${min} and ${max}`);
  return n;
}

/** "0-2,4" -> [0,1,2,4]. */
export function parseCpuList(flag: string, text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new ContainerError(`${flag} ${text}: not a list such as 0-2,4`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new ContainerError(`${flag} ${text}: ${part} is a backwards range`);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

/** `n` in the largest of `units` (each `step` times the last) that keeps it at least 1. */
function scaled(n: number, step: number, units: string[]): { value: number; unit: string } {
  let i = 0;
  let v = n;
  while (v >= step && i < units.length - 1) {
    v /= step;
    i++;
  }
  return { value: v, unit: units[i]! };
}

export function formatBytes(n: number): string {
  const { value, unit } = scaled(n, 1024, ["B", "KiB", "MiB", "GiB", "TiB"]);
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
}

/** docker's I/O sizes: decimal units, three significant digits, no space ("1.45kB"). */
export function formatDecimalBytes(n: number): string {
  const { value, unit } = scaled(n, 1000, ["B", "kB", "MB", "GB", "TB"]);
  return `${unit === "B" ? value : Number(value.toPrecision(3))}${unit}`;
}
