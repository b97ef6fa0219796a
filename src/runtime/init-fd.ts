/** The fd on which init finds its end of the sync socket (after stdin, stdout, stderr). */
export const SYNC_FD = 3;

/** With process.terminal: the socket on which init sends the terminal master it opened. */
export const CONSOLE_FD = 4;

/** --preserve-fds: the caller's fds arrive from here on and are moved to 3, 4, ... at execve. */
export const PRESERVED_FDS_BASE = 5;
