// Data for stdout. Written synchronously: cheaper than creating process.stdout's
// stream (milliseconds at start-up), and nothing is lost when mycr exits with _exit.
import { writeSync } from "node:fs";

export { OUTPUT_CLOSED_STATUS, OutputClosed } from "./output-closed";
import { OutputClosed } from "./output-closed";

/** All of `data` to fd 1 or 2; a reader that went away is OutputClosed. */
export function writeAll(fd: 1 | 2, data: Uint8Array): void {
  let off = 0;
  try {
    while (off < data.length) off += writeSync(fd, data, off);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EPIPE") throw new OutputClosed();
    throw e;
  }
}

export function out(text: string): void {
  writeAll(1, Buffer.from(text.endsWith("\n") ? text : text + "\n"));
}

/** Runs `write`, which writes to fd 1 itself; a reader that went away is OutputClosed. */
export async function toStdout(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EPIPE") throw new OutputClosed();
    throw e;
  }
}
