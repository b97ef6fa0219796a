// The version, in one place: `mycr --version`, `mycr version`, `mycr info`. Kept apart
// from the `version` command so `mycr --version` loads nothing else (src/main.ts).
import { OUTPUT_CLOSED_STATUS, OutputClosed, out } from "./output";

export const VERSION = "0.1.0";

/** `mycr --version`: the line, and the status to exit with (141 if stdout went away). */
export function printVersion(): number {
  try {
    out(`mycr version ${VERSION}`);
    return 0;
  } catch (e) {
    if (e instanceof OutputClosed) return OUTPUT_CLOSED_STATUS;
    throw e;
  }
}
