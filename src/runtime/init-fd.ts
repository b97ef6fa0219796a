/** The fd on which init finds its end of the sync socket (after stdin, stdout, stderr). */
export const SYNC_FD = 3;

/** With process.terminal: the socket on which init sends the terminal master it opened. */
export const CONSOLE_FD = 4;
