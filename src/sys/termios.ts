// Terminal modes (struct termios), saved and restored byte for byte: mycr never
// needs to read a field, only to go raw and to put back exactly what it found.
import { libc, check } from "./libc";

/** struct termios is 60 bytes with glibc on x86_64 and aarch64; room to spare. */
const TERMIOS_SIZE = 128;
const TCSANOW = 0;
const TCSADRAIN = 1;

export type TerminalMode = Uint8Array;

export function getTerminalMode(fd: number): TerminalMode {
  const mode = new Uint8Array(TERMIOS_SIZE);
  check(libc.tcgetattr(fd, mode), "tcgetattr", String(fd));
  return mode;
}

/** Applies `mode`; `drain` waits until queued output was written (used when restoring). */
export function setTerminalMode(fd: number, mode: TerminalMode, drain = false): void {
  check(libc.tcsetattr(fd, drain ? TCSADRAIN : TCSANOW, mode), "tcsetattr", `${fd}, ${drain ? "TCSADRAIN" : "TCSANOW"}`);
}

/** `mode` made raw (cfmakeraw): no echo, no line editing, no signals from keys, no output processing. */
export function rawMode(mode: TerminalMode): TerminalMode {
  const raw = mode.slice();
  libc.cfmakeraw(raw);
  return raw;
}
