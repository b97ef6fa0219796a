// MYCR_TRACE=1 prints the milliseconds since process start at named points of a run,
// for finding where start-up time goes (see bench/).
import { writeSync } from "node:fs";

const enabled = !!process.env.MYCR_TRACE;

export function trace(point: string): void {
  if (!enabled) return;
  const ms = performance.now(); // before touching any stream: creating one takes time itself
  writeSync(2, `mycr[${process.pid}] ${ms.toFixed(2)}ms ${point}\n`);
}
