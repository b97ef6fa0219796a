// Data for stdout. Written synchronously: cheaper than creating process.stdout's
// stream (milliseconds at start-up), and nothing is lost when mycr exits with _exit.
import { writeSync } from "node:fs";
import { isatty } from "node:tty";

export function out(text: string): void {
  const data = Buffer.from(text.endsWith("\n") ? text : text + "\n");
  let off = 0;
  while (off < data.length) off += writeSync(1, data, off);
}

/** citty renders usage with colours; keep them for terminals only. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return isatty(1) ? text : text.replace(/\x1b\[[0-9;]*m/g, "");
}
