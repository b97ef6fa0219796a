// Inside the container (init): the container's terminal, as runc makes it. The pty is
// opened here, through the container's own /dev/ptmx, so the program sees /dev/pts/0
// of its own devpts instance (`tty` prints /dev/pts/0, ttyname() works); the master
// goes back to the runtime over the console socket, the slave becomes fds 0-2 and the
// controlling terminal of init's session, which the program inherits at execve.
import { closeSync, existsSync, openSync } from "node:fs";
import { bind, close, dup2, openPty, openTerminal, sendFd, setControllingTerminal, setWindowSize } from "../sys";

export interface ConsoleOptions {
  /** Where the master goes: the runtime's end of a socket pair (later: a client's console socket). */
  socket: number;
  size?: { height: number; width: number };
  /** Bind the slave over /dev/console (only with a mount namespace of our own). */
  bindDevConsole: boolean;
}

/** Must run after setsid() (init leads its session) and after the root was switched. */
export function setupConsole(opts: ConsoleOptions): void {
  const { master, slavePath } = openPty();
  try {
    // Before the program starts, so its first look at the size is right.
    if (opts.size && opts.size.height > 0 && opts.size.width > 0) {
      setWindowSize(master, { rows: opts.size.height, cols: opts.size.width });
    }
    const slave = openTerminal(slavePath);
    try {
      if (opts.bindDevConsole && existsSync("/dev")) {
        if (!existsSync("/dev/console")) closeSync(openSync("/dev/console", "a", 0o600));
        bind(slavePath, "/dev/console", false);
      }
      setControllingTerminal(slave);
      for (const fd of [0, 1, 2]) dup2(slave, fd);
    } finally {
      close(slave);
    }
    sendFd(opts.socket, master);
  } finally {
    close(master);
  }
}
