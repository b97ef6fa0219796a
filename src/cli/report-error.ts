// How a command's failure reaches the user: one line, and the exit status that says
// what kind of failure it was. Shared by the CLI, the OCI verbs' light path and the
// supervisor's served runs.
import { ContainerError } from "../runtime/errors";
import { SysError } from "../sys/errno";
import { UsageError } from "./argv";
import { log } from "./log";
import { OUTPUT_CLOSED_STATUS, OutputClosed } from "./output";

/**
 * Errors often quote the user's input (a path, an env entry, a flag value), which may
 * hold newlines or escape sequences: show them escaped, so the error stays one line.
 */
function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** Says what went wrong, in one line through `error` (our log by default); returns the exit status. */
export function reportError(e: unknown, debug: boolean, error: (message: string) => void = (m) => log.error(m)): number {
  if (e instanceof OutputClosed) return OUTPUT_CLOSED_STATUS; // `mycr ps | head`: nothing went wrong
  const err = e instanceof Error ? e : new Error(String(e));
  error(oneLine(err.message));
  if (debug) {
    if (err instanceof ContainerError && err.detail) log.debug(err.detail);
    else if (err.stack) log.debug(err.stack);
  }
  if (err instanceof ContainerError) return err.exitCode;
  if (err instanceof UsageError || err instanceof SysError) return 125;
  return 125;
}
