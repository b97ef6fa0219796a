// The version, in one place: `mycr --version`, `mycr version`, `mycr info`. Kept apart
// from the `version` command so `mycr --version` loads nothing else (src/main.ts).
import { OUTPUT_CLOSED_STATUS, OutputClosed } from "./output-closed";

export const VERSION = "0.1.0";

/**
 * `mycr --version`: the line, and the status to exit with (141 if stdout went away).
 * Bun.write, not output.ts's writeSync: loading node:fs would cost ~5 ms of CPU here,
 * a sixth of the whole process (docs/performance.md).
 */
export async function printVersion(): Promise<number> {
  try {
    await Bun.write(Bun.stdout, `mycr version ${VERSION}\n`);
    return 0;
  } catch (e) {
    if (e instanceof OutputClosed || (e as NodeJS.ErrnoException).code === "EPIPE") return OUTPUT_CLOSED_STATUS;
    throw e;
  }
}
