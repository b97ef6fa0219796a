// What a command does when the reader of its output went away. Apart from output.ts so
// `mycr --version` (main.ts) can use it without loading node:fs.

/**
 * The reader of our stdout (or stderr) went away (`mycr stats | head`). Not an error
 * to report: the command ends quietly with 141, the status of a program killed by
 * SIGPIPE, as docker (Go) and every classic Unix tool end there.
 */
export class OutputClosed extends Error {
  constructor() {
    super("output closed");
  }
}

/** The status a command ends with when its output was closed: 128 + SIGPIPE. */
export const OUTPUT_CLOSED_STATUS = 141;
