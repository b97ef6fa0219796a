// The end of every CLI process.
import { trace } from "../runtime/trace";
import { libcLoaded } from "../sys/libc-loaded";

/**
 * Exits with `code` (all output was written synchronously): without Bun's teardown when
 * libc is loaded already; otherwise loading it would cost more than the teardown.
 */
export async function finish(code: number): Promise<never> {
  if (!libcLoaded()) {
    trace("cli: exit");
    process.exit(code);
  }
  const { exitNow } = await import("../sys/process");
  trace("cli: exit");
  return exitNow(code);
}
