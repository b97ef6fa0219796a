/** The fd on which init finds its end of the sync socket (after stdin, stdout, stderr). */
export const SYNC_FD = 3;
