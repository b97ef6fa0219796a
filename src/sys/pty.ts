// Pseudo-terminals: the master/slave pair a container's terminal is made of, and the
// ioctls that make a terminal controlling and give it a size.
import { libc, check, cstr } from "./libc";
import { SysError } from "./errno";
import { AT_FDCWD, O_CLOEXEC, O_NOCTTY, O_RDWR, TIOCGPTPEER, TIOCGWINSZ, TIOCSCTTY, TIOCSWINSZ, TIOCVHANGUP } from "./constants";

export interface Pty {
  master: number;
  /** The slave's path in the devpts instance the master came from (/dev/pts/N). */
  slavePath: string;
}

export interface WindowSize {
  rows: number;
  cols: number;
}

/**
 * Opens a new master through /dev/ptmx of the caller's mount namespace. Inside a
 * container that is the container's own devpts instance, so the slave is /dev/pts/0.
 */
export function openPty(): Pty {
  const master = check(libc.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), "posix_openpt", "O_RDWR|O_NOCTTY|O_CLOEXEC");
  try {
    check(libc.grantpt(master), "grantpt", String(master));
    check(libc.unlockpt(master), "unlockpt", String(master));
    const name = Buffer.alloc(256);
    const err = libc.ptsname_r(master, name, name.length);
    if (err !== 0) throw new SysError("ptsname_r", String(master), err); // returns the errno itself
    return { master, slavePath: name.toString("utf8", 0, name.indexOf(0)) };
  } catch (e) {
    libc.close(master);
    throw e;
  }
}

/**
 * A new pty of the devpts instance whose ptmx `ptmx` is (an O_PATH fd the caller checked):
 * a container's, opened from outside it. Returns the master and its peer (TIOCGPTPEER).
 */
export function openPtyAt(ptmx: number): { master: number; peer: number } {
  const master = check(libc.openat(AT_FDCWD, cstr(`/proc/self/fd/${ptmx}`), O_RDWR | O_NOCTTY | O_CLOEXEC, 0), "open", `ptmx (fd ${ptmx}), O_RDWR|O_NOCTTY`);
  try {
    check(libc.unlockpt(master), "unlockpt", String(master));
    return { master, peer: openPeer(master) };
  } catch (e) {
    libc.close(master);
    throw e;
  }
}

/** Opens a terminal without making it the caller's controlling terminal by accident. */
export function openTerminal(path: string): number {
  return check(libc.openat(AT_FDCWD, cstr(path), O_RDWR | O_NOCTTY | O_CLOEXEC, 0), "open", `${path}, O_RDWR|O_NOCTTY`);
}

/** TIOCSCTTY: `fd` becomes the controlling terminal of the caller's session (the caller must lead it). */
export function setControllingTerminal(fd: number): void {
  check(libc.ioctl(fd, TIOCSCTTY, null), "ioctl", `${fd}, TIOCSCTTY`);
}

export function isTerminal(fd: number): boolean {
  return libc.isatty(fd) === 1;
}

/** The terminal's size, or null when `fd` is not a terminal. */
export function getWindowSize(fd: number): WindowSize | null {
  const ws = new Uint16Array(4); // struct winsize { rows, cols, xpixel, ypixel }
  if (libc.ioctl(fd, TIOCGWINSZ, ws) < 0) return null;
  return { rows: ws[0]!, cols: ws[1]! };
}

/** TIOCSWINSZ; the kernel sends SIGWINCH to the terminal's foreground process group. */
export function setWindowSize(fd: number, size: WindowSize): void {
  const ws = new Uint16Array([size.rows, size.cols, 0, 0]);
  check(libc.ioctl(fd, TIOCSWINSZ, ws), "ioctl", `${fd}, TIOCSWINSZ, ${size.rows}x${size.cols}`);
}

export function dup2(from: number, to: number): void {
  check(libc.dup2(from, to), "dup2", `${from}, ${to}`);
}

/** Puts the process `pid` (0: the caller) into process group `pgid` (0: its own). */
export function setpgid(pid: number, pgid: number): void {
  check(libc.setpgid(pid, pgid), "setpgid", `${pid}, ${pgid}`);
}

/** Makes `pgid` the foreground process group of the terminal `fd`. */
export function tcsetpgrp(fd: number, pgid: number): void {
  check(libc.tcsetpgrp(fd, pgid), "tcsetpgrp", `${fd}, ${pgid}`);
}

/** TIOCGPTPEER (Linux 4.13+): an fd of the master's slave, opened without a path lookup. */
export function openPeer(master: number): number {
  return check(libc.ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC), "ioctl", `${master}, TIOCGPTPEER`);
}

/** TIOCVHANGUP: hangs the terminal up for every process that has it open, as a modem line dropping would (CAP_SYS_ADMIN). */
export function hangUpTerminal(fd: number): void {
  check(libc.ioctl(fd, TIOCVHANGUP, null), "ioctl", `${fd}, TIOCVHANGUP`);
}
